/**
 * Core: output numbering. Each `write` gets the next per-rank seq; a
 * recovering process regenerates the same outputs with the same seqs, which
 * the environment's idempotent sink drops as exact duplicates. First in the
 * onWrite chain (the output-commit blocks run between it and core/output-emit).
 */
import type { CheckpointEv, Kernel, RestoreEv, WriteEv } from "../hooks.js";

type K = Kernel & Fields;

export interface Fields {
  outSeq: number;
}

export function init(s: K): void {
  s.outSeq = 0;
}

export async function onWrite(s: K, ev: WriteEv): Promise<void> {
  ev.seq = ++s.outSeq;
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  ev.state["core.outSeq"] = s.outSeq;
}

export function onRestore(s: K, ev: RestoreEv): void {
  s.outSeq = ev.state["core.outSeq"] as number;
}
