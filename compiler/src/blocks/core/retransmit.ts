/**
 * Core: the retransmission buffer (= the sender-based volatile message log)
 * and stability notices.
 *
 * A sent message stays in `outq[to]` until `to` reports it stable (logged
 * with its contents on stable storage, or covered by a checkpoint): only then
 * can no crash of `to` need it again (protocols.md, "Lost and in-transit
 * messages"; Johnson & Zwaenepoel's sender-based logging GC). The buffer is
 * part of every checkpoint, so a sender that crashes still has the messages
 * it sent before its checkpoint; later ones it regenerates during replay.
 *
 * Receiver side: `stableIn[j]` is the highest ssn from j made stable here;
 * blocks that make messages stable raise it, and notices (TAG_STABLE) go out
 * on the flush timer and when a checkpoint becomes durable. A recovering
 * peer's TAG_RECOVER carries its stable vector too (see core/recovery).
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import { type OutLog, type OutPack, newOutLog, outAt, outDrop, outPack, outUnpack } from "@egida/runtime-core/protocol-lib";
import type { OutQueues } from "./out-log.js";
import type { CheckpointEv, ControlEv, Kernel, RestoreEv, TimerEv } from "../hooks.js";
import { KIND_APP, KIND_CONTROL, TAG_RECOVER, TAG_STABLE } from "../tags.js";
import type { Fields as CoreReceive } from "./receive.js";

type K = Kernel & Fields & CoreReceive;

export interface Fields extends OutQueues {
  /** Per destination, sent messages not yet known stable at the destination, in ssn order (packed: core/out-log). */
  outq: OutLog[];
  /** Per source, the highest ssn made stable at this process. */
  stableIn: Uint32Array;
  /** Per source, the last value of stableIn told to it. */
  notified: Uint32Array;
}

export function init(s: K): void {
  s.outq = [];
  for (let i = 0; i < s.host.size; i++) s.outq.push(newOutLog(i));
  s.stableIn = new Uint32Array(s.host.size);
  s.notified = new Uint32Array(s.host.size);
}

export function onControl(s: K, ev: ControlEv): void {
  if (ev.tag === TAG_STABLE) {
    // The receiver holds everything up to words[0]: drop it from the buffer.
    outDrop(s.outq[ev.from]!, ev.words[0]!);
  } else if (ev.tag === TAG_RECOVER) {
    // words = [incarnation, reply, delivered[0..size-1], stable[0..size-1]]:
    // drop what is stable there, resend what it has not delivered.
    const n = s.host.size;
    const stable = ev.words[2 + n + s.host.rank]!;
    const have = ev.words[2 + s.host.rank]!;
    const q = s.outq[ev.from]!;
    outDrop(q, stable);
    for (let i = 0; i < q.length; i++) {
      const m = outAt(q, i);
      if (m.ssn <= have) continue;
      s.host.transport.send(ev.from, {
        kind: KIND_APP as FrameKind,
        tag: 0,
        piggyback: new Uint8Array(m.pb.buffer, m.pb.byteOffset, m.pb.byteLength),
        payload: m.payload,
      });
    }
    // It lost what we told it before: repeat our stability notice. Words 1-2
    // (what we delivered from it, its incarnation) let it check that its
    // recovery regenerated every message we saw (collect/stable-log).
    const w = new Uint32Array([s.stableIn[ev.from]!, s.delivered[ev.from]!, ev.words[0]!]);
    s.notified[ev.from] = s.stableIn[ev.from]!;
    s.host.transport.send(ev.from, { kind: KIND_CONTROL as FrameKind, tag: TAG_STABLE, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
  }
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  ev.state["core.outq"] = outPack(s.outq);
  ev.state["core.stableIn"] = s.stableIn.slice();
}

export function onRestore(s: K, ev: RestoreEv): void {
  s.outq = outUnpack(s.host.size, ev.state["core.outq"] as OutPack[]);
  s.stableIn = (ev.state["core.stableIn"] as Uint32Array).slice();
  s.notified = s.stableIn.slice();
}

export async function onCheckpointDurable(s: K, ev: CheckpointEv): Promise<void> {
  // Everything delivered before the checkpoint is stable now (sender-based GC).
  for (let j = 0; j < s.host.size; j++) {
    if (ev.delivered[j]! > s.stableIn[j]!) s.stableIn[j] = ev.delivered[j]!;
    if (j !== s.host.rank && s.stableIn[j]! > s.notified[j]!) {
      s.notified[j] = s.stableIn[j]!;
      const w = new Uint32Array([s.stableIn[j]!]);
      s.host.transport.send(j, { kind: KIND_CONTROL as FrameKind, tag: TAG_STABLE, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
    }
  }
}

export function onFlushTimer(s: K, _ev: TimerEv): void {
  for (let j = 0; j < s.host.size; j++) {
    if (j !== s.host.rank && s.stableIn[j]! > s.notified[j]!) {
      s.notified[j] = s.stableIn[j]!;
      const w = new Uint32Array([s.stableIn[j]!]);
      s.host.transport.send(j, { kind: KIND_CONTROL as FrameKind, tag: TAG_STABLE, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
    }
  }
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Retransmission buffer (the volatile sender-based message log) kept until the receiver reports messages stable.",
  implements: [{ module: "EventHandler" }, { module: "LogEventInfo" }, { variable: "event-info", value: "message" }, { variable: "storage", value: "volatile-memory-of-self" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/pump.ts"] },
    // every block adds its state before the store writes it (last)
    onCheckpoint: { after: ["core/receive.ts"] },
    // state comes back in the order it was added
    onRestore: { after: ["core/receive.ts"] },
  },
  owns: {
    tags: ["TAG_STABLE"],
    state: ["core.outq", "core.stableIn"],
  },
  // the blocks whose fields its K reads
  requires: ["core/receive.ts"],
};
