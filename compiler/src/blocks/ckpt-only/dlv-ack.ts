/**
 * Co-ordinated checkpoint-only protocols: receivers tell senders what they
 * delivered, so a checkpoint saves only the messages that may be in transit
 * across its snapshot.
 *
 * Without it a sender's retransmission buffer (ckpt-only/rounds.ts `outq`)
 * holds everything it sent since the receiver's last *committed* checkpoint,
 * about one checkpoint interval of traffic, and every checkpoint saved all
 * of it (1-3 MB per checkpoint on the bench's jacobi, packed and hashed),
 * though only the few messages in flight when the snapshot is taken can be
 * in transit across it.
 *
 * Every `cp.ackEvery` deliveries from a sender (64 in every spec: a
 * snapshot then saves at most that many messages per destination beyond
 * those in flight, for one small control frame per that many messages; a
 * test sets 1), the receiver sends it
 * TAG_CP_DLV [epoch, index, ssn]: "in `epoch`, every message of yours up to
 * `ssn` was delivered while my snapshot index was at most `index`". A
 * co-ordinated line is snapshot k at every process (ckpt-only/line.ts), and
 * a receiver's snapshot k is taken after its state with index < k, so once
 * `index` < k the receiver's snapshot k holds those deliveries: the sender's
 * snapshot k (and every later one) need not save them. The sender drops them
 * from its buffer as soon as its own index is at least `index` (its next
 * snapshot is above it), else when it takes a snapshot above `index`.
 * Checkpoints already captured keep what they saved.
 *
 * An acknowledgement of another epoch, or one arriving during a recovery
 * round, is ignored: a rollback resets what the receiver has delivered.
 * Acknowledgements are advisory: a lost one only leaves more in the buffer.
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import { outDrop } from "@egida/runtime-core/protocol-lib";
import type { CheckpointEv, ControlEv, DeliverEv, Kernel, RestoreEv } from "../hooks.js";
import { param } from "../params.js";
import { KIND_CONTROL, TAG_CP_DLV } from "../tags.js";
import type { Fields as CpIndexPb } from "./index-pb.js";
import type { Fields as CpRounds } from "./rounds.js";
import type { Fields as CoreReceive } from "../core/receive.js";

type K = Kernel & Fields & CpIndexPb & CpRounds & CoreReceive;

export interface Fields {
  /** Per sender: deliveries since the last acknowledgement sent to it. */
  daCount: number[];
  /** Per destination: an acknowledgement [epoch, index, ssn] whose index is above this process's, to apply at a later snapshot (null: none). */
  daPend: (number[] | null)[];
}

export function init(s: K): void {
  s.daCount = new Array<number>(s.host.size).fill(0);
  s.daPend = new Array<number[] | null>(s.host.size).fill(null);
}

export function onDeliver(s: K, ev: DeliverEv): Promise<void> | void {
  const j = ev.msg.from;
  if (++s.daCount[j]! >= param<number>("cp.ackEvery")) {
    s.daCount[j] = 0;
    // This message and every one before it from j: delivered at an index no higher than the current one
    // (a forced checkpoint for it, ckpt-only/index-pb, has already raised the index; core/deliver hands it
    // over next, and no snapshot is captured before that delivery has settled).
    const w = new Uint32Array([s.cpEpoch, s.cpIdx, ev.msg.ssn]);
    s.host.transport.send(j, { kind: KIND_CONTROL as FrameKind, tag: TAG_CP_DLV, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
  }
}

export function onControl(s: K, ev: ControlEv): void {
  // Another epoch's, or during a round: a rollback resets what the receiver has delivered.
  if (ev.tag === TAG_CP_DLV && ev.words[0] === s.cpEpoch && s.cpLive && s.cpPhase === 0) {
    const idx = ev.words[1]!;
    // This process's next snapshot has an index above its current one.
    if (idx <= s.cpIdx) outDrop(s.outq[ev.from]!, ev.words[2]!);
    else s.daPend[ev.from] = [ev.words[0], idx, ev.words[2]!];
  }
}

export async function onCheckpoint(s: K, _ev: CheckpointEv): Promise<void> {
  // The index this snapshot gets (ckpt-only/store.ts assigns it next).
  const k = s.cpWantIdx >= 0 ? s.cpWantIdx : s.cpIdx + 1;
  for (let j = 0; j < s.daPend.length; j++) {
    const p = s.daPend[j];
    if (p === null || p === undefined) continue;
    if (p[0] !== s.cpEpoch) s.daPend[j] = null;
    else if (p[1]! < k) {
      outDrop(s.outq[j]!, p[2]!);
      s.daPend[j] = null;
    }
  }
}

export function onRestore(s: K, _ev: RestoreEv): void {
  // Counts and pending acknowledgements of the execution rolled back (the epoch check would skip them too).
  s.daCount.fill(0);
  s.daPend.fill(null);
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Co-ordinated checkpoint-only: receivers acknowledge deliveries, so a snapshot saves only messages that may be in transit across it.",
  implements: [{ module: "Checkpoint" }, { variable: "ckpt-proto", value: "coordinated" }],
  params: { "cp.ackEvery": "number" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["ckpt-only/index-pb.ts"], before: ["ckpt-only/rounds.ts"] },
    // after a forced checkpoint (ckpt-only/index-pb), before core/deliver hands the message over (last)
    onDeliver: { after: ["ckpt-only/index-pb.ts"], before: ["core/deliver.ts"] },
    // the buffer is trimmed before ckpt-only/rounds packs it into the snapshot
    onCheckpoint: { before: ["ckpt-only/rounds.ts"] },
  },
  owns: {
    tags: ["TAG_CP_DLV"],
  },
  // the blocks whose fields its K reads
  requires: ["ckpt-only/index-pb.ts", "ckpt-only/rounds.ts", "core/receive.ts"],
};
