/**
 * Checkpoint (co-ordinated and communication-induced) for the logging
 * protocols (pessimistic). Recovery never needs another process's checkpoint
 * there: a failed process restores its own latest checkpoint and replays its
 * log (checkpoint/restore, collect/stable-log), and no survivor rolls back.
 * So the schedule is all a checkpoint protocol decides, and it decides it the
 * way the checkpoint-only protocols do (docs/protocols.md, "Pessimistic
 * logging with co-ordinated or communication-induced checkpoints"):
 *
 * - every message carries the sender's checkpoint index (one word after the
 *   ssn) and a message with a higher index forces a checkpoint with that index
 *   before it is delivered (the marker rule of a co-ordinated snapshot; BCS's
 *   index-based rule), so the checkpoints with one index form a consistent cut
 *   and none is useless;
 * - co-ordinated (`pk.coordinated`): rank 0's timer (ckpt-only/snapshot.ts)
 *   starts round k = its index + 1; once its checkpoint k is durable it tells
 *   every process, which checkpoints with index k unless it already has. A
 *   process that is down misses the round and joins the next one (or is
 *   forced into it by the first message of that round it delivers).
 *   Communication-induced: the local timer (checkpoint/independent.ts) takes
 *   basic checkpoints with index + 1.
 *
 * Each durable checkpoint truncates the process's own log and tells its
 * senders what it made stable (log/event-log, core/retransmit), so once
 * round k is durable everywhere no log or sender buffer holds anything a
 * round-k checkpoint covers: what is left are the messages in transit across
 * the round's cut and the ones after it.
 *
 * During replay the index is raised without a checkpoint (the regenerated
 * sends carry what the originals carried); the checkpoint is taken as soon
 * as the process is live again.
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import type { CheckpointEv, ControlEv, DeliverEv, Kernel, RestoreEv, SendEv, TimerEv } from "../hooks.js";
import { param } from "../params.js";
import { KIND_CONTROL, TAG_CKPT_ROUND } from "../tags.js";
import type { Fields as CoreSsn } from "../core/ssn.js";
import type { PumpState } from "../core/pump-state.js";
import type { Fields as CoreReceive } from "../core/receive.js";
import type { CheckpointStoreState } from "./store-state.js";

type K = Kernel & Fields & CoreSsn & PumpState & CoreReceive & CheckpointStoreState;

export interface Fields {
  /** Index of the latest checkpoint (round number / BCS index); part of every checkpoint. */
  pkIdx: number;
  /** Index the next checkpoint must get (0: pkIdx + 1): a round or a forced checkpoint asked for it. */
  pkWant: number;
  /** Rank 0, co-ordinated: the last round it told the others about. */
  pkTold: number;
}

export function init(s: K): void {
  s.pkIdx = 0;
  s.pkWant = 0;
  s.pkTold = 0;
}

export function onSend(s: K, ev: SendEv): void {
  s.pbw[ev.pbLen++] = s.pkIdx;
}

export async function onDeliver(s: K, ev: DeliverEv): Promise<void> {
  const x = ev.msg.pb[ev.pbPos++]!;
  if (x > s.pkIdx) {
    if (x > s.pkWant) s.pkWant = x;
    if (ev.replay) {
      s.pkIdx = x;
      s.ckptWanted = true;
    } else {
      // Before the delivery (and before the determinant is logged: the checkpoint truncates the log).
      s.host.trace({ type: "protocol", rank: s.host.rank, what: `forced checkpoint ${x} before ${ev.msg.from}:${ev.msg.ssn}` });
      await s.onCheckpoint({ index: 0, app: s.host.captureAppState(), state: {}, delivered: s.delivered.slice(), rsn: s.rsn });
    }
  }
}

export function onControl(s: K, ev: ControlEv): void {
  if (ev.tag === TAG_CKPT_ROUND) {
    const k = ev.words[0]!;
    if (k > s.pkIdx && k > s.pkWant) {
      s.pkWant = k;
      s.ckptWanted = true;
      void s.onPump({ reason: 4 });
    }
  }
}

export function onCheckpointTimer(s: K, _ev: TimerEv): void {
  // Only rank 0 has this timer when co-ordinated; a round still being written skips the tick.
  if (param<boolean>("pk.coordinated") && !s.ckptWriting && !s.ckptWanted) {
    s.pkWant = s.pkIdx + 1;
    s.ckptWanted = true;
    void s.onPump({ reason: 4 });
  }
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  // This checkpoint serves every pending request (a round, the timer, a forced one).
  const idx = s.pkWant > 0 ? (s.pkWant > s.pkIdx ? s.pkWant : s.pkIdx) : s.pkIdx + 1;
  s.pkWant = 0;
  s.ckptWanted = false;
  s.pkIdx = idx;
  ev.state["pk.idx"] = idx;
}

export async function onCheckpointDurable(s: K, ev: CheckpointEv): Promise<void> {
  const k = ev.state["pk.idx"] as number;
  if (param<boolean>("pk.coordinated") && s.host.rank === 0 && k > s.pkTold) {
    s.pkTold = k;
    const w = new Uint32Array([k]);
    for (let j = 1; j < s.host.size; j++) {
      s.host.transport.send(j, { kind: KIND_CONTROL as FrameKind, tag: TAG_CKPT_ROUND, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
    }
  }
}

export function onRestore(s: K, ev: RestoreEv): void {
  s.pkIdx = ev.state["pk.idx"] as number;
  s.pkTold = s.pkIdx;
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Co-ordinated or communication-induced checkpoints under message logging: piggybacked index, forced checkpoints, rank 0's rounds.",
  implements: [{ module: "PiggybackCheckpointing" }, { variable: "ckpt-proto", value: "coordinated" }, { variable: "ckpt-proto", value: "communication-induced" }, { variable: "pb-value", value: "checkpoint-counter" }],
  params: { "pk.coordinated": "boolean" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["checkpoint/restore.ts"], before: ["causal/stable-dets.ts", "causal/det-log.ts", "causal/gather.ts", "causal/commit.ts"] },
    // piggyback words are appended in chain order; core/ssn first, core/transmit (or log/send-log) last.
    // The index word comes right after the ssn: causal/gather scans the causal piggyback after it (causal.pbAt).
    onSend: { after: ["core/ssn.ts"], before: ["causal/det-log.ts"] },
    // a forced checkpoint is taken before the delivery's determinant is created or logged
    onDeliver: { before: ["causal/stable-dets.ts", "causal/det-log.ts", "causal/commit.ts"] },
    // filters and stability claims before the blocks that act on them
    onControl: { after: ["core/retransmit.ts"], before: ["causal/det-log.ts", "causal/gather.ts", "causal/commit.ts"] },
    // every block adds its state before the store writes it (last)
    onCheckpoint: { after: ["core/output-seq.ts"], before: ["causal/stable-dets.ts", "causal/det-log.ts"] },
    // GC after the checkpoint is durable, in chain order
    onCheckpointDurable: { after: ["core/retransmit.ts"], before: ["causal/stable-dets.ts", "causal/det-log.ts"] },
    // state comes back in the order it was added
    onRestore: { after: ["core/output-seq.ts"], before: ["causal/det-log.ts"] },
  },
  owns: {
    tags: ["TAG_CKPT_ROUND"],
    wire: ["piggyback word after the ssn: checkpoint index or round"],
    state: ["pk.idx"],
  },
  // the blocks whose fields its K reads
  requires: ["core/receive.ts", "core/ssn.ts"],
};
