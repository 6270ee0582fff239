/**
 * CollectDeterminants, `distributed` (FBL / Manetho recovery): after the
 * checkpoint is restored (and, hybrid, the stable log read), the recovering
 * process asks every other process for the determinants of its own
 * deliveries after `from` (TAG_CAUSAL_GATHER [incarnation, from]) and waits
 * for every peer's answer (TAG_CAUSAL_DETS [incarnation, maxDep, count,
 * (rsn, src, ssn) × count, readCount, (rsn, idx, byteLength, value words) ×
 * readCount]). A peer answers from its volatile log and from
 * the piggybacks of messages it holds back undelivered, and reports maxDep:
 * the highest rsn of the requester it (or a message it holds) depends on.
 * The read determinants answered are the requester's replay values
 * (causal/det-log onRead); without a checkpoint the round may already have
 * started at the first read of the re-run onStart.
 * A peer that is down answers once restarted and restored (requests are
 * buffered by the transport; re-sent if it restarts before answering).
 *
 * Re-gather: an answer also carries every other process's determinants and
 * read determinants the answerer holds (not flushed by their owner), as
 * [count, (k, rsn, src, ssn) × count, readCount, (k, rsn, idx, byteLength,
 * value words) × readCount] after the requester's own; the recovering process
 * adds them to its log once the round ends. An output commit counts its push
 * acknowledgers as holders, and a push reaches no delivery that replay could
 * re-merge: without this, an acknowledger that restarts would hold nothing
 * while the pusher still counted it, and f later concurrent failures could
 * lose a determinant an output or a survivor depends on
 * (test/protocols/causal-ack-restart.test.ts). With at most f failed at once,
 * one of the f + 1 holders is live during the round and gives it back.
 *
 * The replay plan is the contiguous run from+1, from+2, ...; the senders
 * resend the contents (core/recovery). Beyond f (documented in
 * docs/protocols.md): if any answer names a delivery, or a dependency, past
 * the end of that run, some surviving state depends on a determinant no
 * process holds any more: host.unrecoverable, never a silent divergence.
 *
 * Lost retransmission request (as collect/stable-log): each peer's answer to
 * our TAG_RECOVER (core/retransmit's TAG_STABLE [stable, delivered from us,
 * our incarnation]) makes us resend what it has not delivered from our
 * restored buffer. A peer whose own recovery asked our previous incarnation
 * for messages lost in transit to it, and whose request died with that
 * incarnation, is live by now if its replay needed nothing from us, and never
 * asks again (campaign schedule: jacobi, seed 7, rank 2 crashes after its
 * first checkpoint, rank 1 at step 120: the job hung;
 * test/protocols/causal-resend.test.ts).
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import type { ControlEv, Kernel, PeerIncarnationEv, StartEv } from "../hooks.js";
import { param } from "../params.js";
import { outResend, type OutQueues } from "../core/out-log.js";
import { KIND_CONTROL, TAG_CAUSAL_DETS, TAG_CAUSAL_GATHER, TAG_STABLE } from "../tags.js";
import { causalAdd, causalAddRead, causalPutRead, causalReadValue, causalReadWords, causalSameBytes, causalScanPb, type CRead } from "@egida/runtime-core/protocol-lib";
import { causalGatherStart, type DetLogState, type GatherState } from "./stability.js";
import type { Fields as CoreReceive } from "../core/receive.js";
import type { Fields as CorePump } from "../core/pump.js";
import type { Fields as CkptRestore } from "../checkpoint/restore.js";

type K = Kernel & Fields & DetLogState & CoreReceive & CorePump & CkptRestore & OutQueues;

export interface Fields extends GatherState {
  /** Gathering: peers that answered (bitmask), determinants of own deliveries rsn → [src, ssn], highest dependency reported. */
  gaAnswered: number;
  gaDets: Map<number, number[]>;
  /** Values of own reads gathered, by `${rsn}.${idx}` (consumed by causal/det-log onRead during replay). */
  gaReads: Map<string, Uint8Array>;
  /** This incarnation's round: resolves when every peer answered (null: not started). */
  gaRound: Promise<void> | null;
  gaMaxDep: number;
  gaFrom: number;
  gaDone: (() => void) | null;
  /** Two answers disagreed on a determinant (reported once the round ends). */
  gaConflict: string | null;
  /** Re-gathered determinants of other processes, [k, rsn, src, ssn] each (added to the log when the round ends). */
  gaOthers: number[];
  /** Re-gathered read determinants of other processes. */
  gaOtherReads: [number, CRead][];
}

export function init(s: K): void {
  s.gaAnswered = 0;
  s.gaDets = new Map();
  s.gaReads = new Map();
  s.gaRound = null;
  s.gaMaxDep = 0;
  s.gaFrom = 0;
  s.gaDone = null;
  s.gaConflict = null;
  s.gaOthers = [];
  s.gaOtherReads = [];
}

export async function onRecover(s: K, ev: StartEv): Promise<void> {
  // The checkpoint is restored: serve the causal control frames that waited for it.
  s.cdReady = true;
  const deferred = s.cdDeferred;
  s.cdDeferred = [];
  for (const d of deferred) s.onControl(d);
  const me = s.host.rank;
  const from = s.rsn + s.planSrc.length;
  // (Started already, from 0, if the re-run onStart read something: causal/det-log.)
  if (s.gaRound === null) causalGatherStart(s, from);
  await s.gaRound;
  if (s.gaConflict !== null) s.host.unrecoverable(s.gaConflict);
  // After the round, not as answers arrive: the round may start before the checkpoint is restored.
  const others = s.gaOthers;
  for (let i = 0; i < others.length; i += 4) {
    const conflict = causalAdd(s, others[i]!, others[i + 1]!, others[i + 2]!, others[i + 3]!, 0);
    if (conflict !== null) s.host.unrecoverable(`rank ${me}: ${conflict}`);
  }
  for (const [k, d] of s.gaOtherReads) {
    const conflict = causalAddRead(s, k, d.r, d.idx, d.value);
    if (conflict !== null) s.host.unrecoverable(`rank ${me}: ${conflict}`);
  }
  s.gaOthers = [];
  s.gaOtherReads = [];
  // Reads of steps inside the restored checkpoint are not re-read.
  for (const key of [...s.gaReads.keys()]) if (Number(key.split(".")[0]) < s.cdReadFrom) s.gaReads.delete(key);
  let r = from;
  for (let d = s.gaDets.get(r + 1); d !== undefined; d = s.gaDets.get(r + 1)) {
    r++;
    s.planSrc.push(d[0]!);
    s.planSsn.push(d[1]!);
    const conflict = causalAdd(s, me, r, d[0]!, d[1]!, 1 << me);
    if (conflict !== null) s.host.unrecoverable(`rank ${me}: ${conflict}`);
  }
  let top = s.gaMaxDep;
  for (const k of s.gaDets.keys()) if (k > top) top = k;
  for (const k of s.gaReads.keys()) if (Number(k.split(".")[0]) > top) top = Number(k.split(".")[0]);
  if (top > r) {
    s.host.unrecoverable(
      `rank ${me}: the determinant of its delivery ${r + 1} is held by no live process, but a live process depends on its delivery ${top} ` +
        `(more than f = ${s.host.f} concurrent failures)`,
    );
  }
  s.host.trace({ type: "protocol", rank: me, what: `causal gather: replay ${from + 1}..${r}` });
  s.gaDets = new Map();
  // No checkpoint: checkpoint/restore left the app's onStart for now, so its reads find their gathered values
  // at once (ctx.read returns a value, not a promise, for a synchronous produce).
  if (s.ckptInitDue) {
    s.ckptInitDue = false;
    await s.host.initApp({ replay: true });
  }
}

export function onControl(s: K, ev: ControlEv): void {
  if (ev.tag === TAG_STABLE && ev.words.length >= 3 && s.host.incarnation > 0 && ev.words[2] === s.host.incarnation) {
    outResend(s, ev.from, ev.words[1]!);
  } else if (!s.cdReady) {
    // deferred by causal/det-log
  } else if (ev.tag === TAG_CAUSAL_GATHER) {
    const tracking = param<string>("causal.tracking") === "dependency-matrix";
    const sv = param<string>("causal.tracking") === "stability-vector";
    const smx = param<string>("causal.tracking") === "stability-matrix";
    const n = s.host.size;
    const k = ev.from;
    const after = ev.words[1]!;
    const found = new Map<number, number[]>();
    for (const [r, d] of s.cdDets[k]!) found.set(r, [d.src, d.ssn]);
    const reads = new Map<string, CRead>(s.cdReads[k]!);
    let dep = s.cdDm[s.host.rank * n + k]!;
    for (const q of s.held) {
      for (const m of q.values()) {
        const v = causalScanPb(m.pb, param<number>("causal.pbAt"), m.from, k, n, tracking, sv, smx, found, reads);
        if (v > dep) dep = v;
      }
    }
    const out: number[] = [ev.words[0]!, dep, 0];
    for (const [r, d] of found) if (r > after) out.push(r, d[0]!, d[1]!);
    out[2] = (out.length - 3) / 3;
    const others: number[] = [];
    let otherReads = 0;
    let len = out.length + 3;
    for (const d of reads.values()) len += causalReadWords(d);
    for (let j = 0; j < n; j++) {
      if (j === k) continue;
      const fl = s.cdFlushed[j]!;
      for (const [r, d] of s.cdDets[j]!) if (r > fl) others.push(j, r, d.src, d.ssn);
      for (const d of s.cdReads[j]!.values()) {
        otherReads++;
        len += causalReadWords(d);
      }
    }
    len += others.length;
    const w = new Uint32Array(len);
    w.set(out);
    let pos = out.length;
    w[pos++] = reads.size;
    for (const d of reads.values()) pos = causalPutRead(w, pos, k, d);
    w[pos++] = others.length / 4;
    w.set(others, pos);
    pos += others.length;
    w[pos++] = otherReads;
    for (let j = 0; j < n; j++) if (j !== k) for (const d of s.cdReads[j]!.values()) pos = causalPutRead(w, pos, j, d);
    s.host.transport.send(k, { kind: KIND_CONTROL as FrameKind, tag: TAG_CAUSAL_DETS, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
  } else if (ev.tag === TAG_CAUSAL_DETS && s.gaDone !== null && ev.words[0] === s.host.incarnation) {
    const w = ev.words;
    if (w[1]! > s.gaMaxDep) s.gaMaxDep = w[1]!;
    for (let i = 0, p = 3; i < w[2]!; i++, p += 3) {
      const had = s.gaDets.get(w[p]!);
      if (had !== undefined && (had[0] !== w[p + 1] || had[1] !== w[p + 2])) {
        s.gaConflict = `rank ${s.host.rank}: peers disagree on the determinant of its delivery ${w[p]} (more than f concurrent failures)`;
      }
      s.gaDets.set(w[p]!, [w[p + 1]!, w[p + 2]!]);
    }
    let p = 3 + 3 * w[2]!;
    const rc = w[p++]!;
    for (let i = 0; i < rc; i++) {
      // [k, rsn, idx, byteLength, value words]
      const key = `${w[p + 1]}.${w[p + 2]}`;
      const value = causalReadValue(w, p);
      const had = s.gaReads.get(key);
      if (had !== undefined && !causalSameBytes(had, value)) {
        s.gaConflict = `rank ${s.host.rank}: peers disagree on the value of its read ${w[p + 2]} of step ${w[p + 1]} (more than f concurrent failures)`;
      }
      s.gaReads.set(key, value);
      p += 4 + ((w[p + 3]! + 3) >>> 2);
    }
    // Re-gather (absent from an answer that has nothing after the reads).
    const oc = p < w.length ? w[p++]! : 0;
    for (let i = 0; i < oc; i++, p += 4) s.gaOthers.push(w[p]!, w[p + 1]!, w[p + 2]!, w[p + 3]!);
    const orc = p < w.length ? w[p++]! : 0;
    for (let i = 0; i < orc; i++) {
      s.gaOtherReads.push([w[p]!, { r: w[p + 1]!, idx: w[p + 2]!, value: causalReadValue(w, p), push: 0 }]);
      p += 4 + ((w[p + 3]! + 3) >>> 2);
    }
    s.gaAnswered |= 1 << ev.from;
    const all = ((1 << s.host.size) - 1) & ~(1 << s.host.rank);
    if ((s.gaAnswered & all) === all) {
      const done = s.gaDone;
      s.gaDone = null;
      done();
    } else {
      // The stall diagnosis quotes the last note: name the ranks still to answer, not all those asked.
      const waiting: number[] = [];
      for (let j = 0; j < s.host.size; j++) if ((all & ~s.gaAnswered & (1 << j)) !== 0) waiting.push(j);
      s.host.trace({ type: "protocol", rank: s.host.rank, what: `causal gather: waiting for determinants from ranks ${waiting.join(", ")}` });
    }
  }
}

export function onPeerIncarnation(s: K, ev: PeerIncarnationEv): void {
  // A peer that restarted before answering lost our request: ask again.
  if (s.gaDone !== null && (s.gaAnswered & (1 << ev.rank)) === 0) {
    const w = new Uint32Array([s.host.incarnation, s.gaFrom]);
    s.host.transport.send(ev.rank, { kind: KIND_CONTROL as FrameKind, tag: TAG_CAUSAL_GATHER, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
  }
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Causal recovery: gather the determinants of own deliveries from every other process.",
  implements: [{ module: "CollectDeterminants" }, { variable: "recovery-get-det-proto", value: "distributed" }, { variable: "recovery-get-det-proto", value: "centralized" }],
  params: { "causal.tracking": "string", "causal.pbAt": "number" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["causal/det-log.ts"] },
    // restore the checkpoint, build the replay plan, then core/recovery replays
    onRecover: { after: ["causal/stable-dets.ts", "checkpoint/restore.ts"], before: ["core/recovery.ts"] },
    // filters and stability claims before the blocks that act on them
    onControl: { after: ["causal/det-log.ts"] },
    // chain order
    onPeerIncarnation: { after: ["causal/det-log.ts"] },
  },
  owns: {
    tags: ["TAG_CAUSAL_GATHER", "TAG_CAUSAL_DETS"],
  },
  // the blocks whose fields its K reads (DetLogState is causal/det-log's)
  requires: ["causal/det-log.ts", "checkpoint/restore.ts", "core/pump.ts", "core/receive.ts"],
};
