/**
 * The checkpoint store and its write flag, shared by the checkpointing
 * blocks: checkpoint/restore and ckpt-only/store (one of them is selected)
 * both declare these fields, and their `Fields` extend this interface so the
 * two cannot diverge.
 */
import type { CheckpointStore } from "@egida/runtime-core/spi";

export interface CheckpointStoreState {
  ckptStore: CheckpointStore | null;
  /** A checkpoint write is in flight: do not start another. */
  ckptWriting: boolean;
}
