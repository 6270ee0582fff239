/**
 * HowToOutputCommit for causal logging: before an output leaves, every
 * determinant this process holds that is not yet stable is made stable, so
 * the state the output reveals survives any f concurrent failures (an output
 * is a message to a process that never rolls back; Elnozahy–Zwaenepoel,
 * Manetho output commit). Hybrid: first flush the own stable determinant log
 * (own determinants are then on stable storage). Then push the rest
 * (TAG_CAUSAL_PUSH [id, count, (src, ssn, dest, rsn) × count, readCount,
 * (k, rsn, idx, byteLength, value words) × readCount]) to every peer
 * and wait for f acknowledgements (TAG_CAUSAL_ACK [id, incarnation]): with this process
 * they make f + 1 holders. A peer that restarts loses its copy: it is pushed
 * again and its old acknowledgement no longer counts.
 *
 * Also every process's side: store pushed determinants, acknowledge.
 * Selected for every causal protocol: without it an output could depend on
 * a determinant lost in a crash and be retracted.
 *
 * Co-ordinated (`causal.commit` = "coordinated", hybrid only: every process
 * has a stable determinant log): the paper's co-ordinated output commit.
 * Instead of pushing another process k's unstable receive determinants to f
 * peers, the writer asks k to flush its own log up to the highest rsn of
 * k's it holds unstable (TAG_CAUSAL_FLUSH [rsn]); k syncs its log once its
 * log reaches that rsn (a recovering k first replays it: it regathers the
 * determinant from the writer) and answers TAG_CAUSAL_STABLE, and the write
 * waits until every such k's flushed rsn (or checkpoint) covers it. A k that
 * restarts is asked again. Fewer frames than the push when one process
 * depends on few others, and nothing held in volatile memory counts; the
 * price is one sync at each k on the output's critical path. Reads are not
 * on the hybrid's stable log: they are pushed as in the independent commit.
 *
 * Finish (Protocol.finish, every rank is done): an app may write without
 * awaiting and call done(), so a commit can still wait for its
 * acknowledgements when the launcher would stop the ranks. onFinish resolves
 * only once no write is between here and core/output-emit: it counts the
 * commits in flight and, after the last one ends, waits one timer tick so
 * the rest of the onWrite chain (output-emit hands the output to the sink,
 * synchronously) has run.
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import type { ControlEv, DeliverEv, Kernel, PeerIncarnationEv, StartEv, WriteEv } from "../hooks.js";
import { param } from "../params.js";
import { KIND_CONTROL, TAG_CAUSAL_ACK, TAG_CAUSAL_FLUSH, TAG_CAUSAL_PUSH, TAG_CAUSAL_STABLE } from "../tags.js";
import { causalAdd, causalAddRead, causalPutRead, causalReadStable, causalReadValue, causalReadWords, causalStable, type CDet, type CRead } from "@egida/runtime-core/protocol-lib";
import { causalAnnounce, type DetLogState, type GatherState } from "./stability.js";
import type { Fields as CausalDetLog } from "./det-log.js";
import type { Fields as CoreRetransmit } from "../core/retransmit.js";

type K = Kernel & Fields & DetLogState & CausalDetLog & CoreRetransmit & GatherState;

/** A pending push: the keys (dest, rsn) pushed, the read determinants pushed, the frame words, acknowledgers, and the waiter. */
export interface CPush {
  readonly keys: number[];
  readonly reads: CRead[];
  readonly words: Uint32Array;
  got: number;
  readonly done: () => void;
}

export interface Fields {
  ocNextId: number;
  ocPending: Map<number, CPush>;
  /** Writes inside this block's onWrite (flushing or waiting for acknowledgements). */
  ocWriting: number;
  /** onFinish waiters, woken when ocWriting drops to 0. */
  ocIdle: (() => void)[];
  /** Co-ordinated: writes waiting for other processes' flushes; need[k] = the rsn of k's log that must be flushed. */
  ocWaits: Set<{ readonly need: Uint32Array; readonly done: () => void }>;
  /** Co-ordinated: flush requests (requester, rsn) this process cannot answer yet (its log has not reached rsn). */
  ocFlushReq: number[];
  /**
   * The determinants the last output commit found unstable (pushed, or asked to be flushed). With
   * the queue's entries since cdQCommit they are every determinant that may be unstable, so a
   * commit examines those, not the log since the checkpoint: a determinant once stable stays so
   * until a peer restarts (its push acknowledgements are void), and then cdQCommit is -1.
   */
  ocUnstable: CDet[];
}

export function init(s: K): void {
  s.ocNextId = 0;
  s.ocPending = new Map();
  s.ocWriting = 0;
  s.ocIdle = [];
  s.ocWaits = new Set();
  s.ocFlushReq = [];
  s.ocUnstable = [];
}

/** Hybrid: sync the own stable log (its determinants stable, its messages stable here). */
async function ocFlushOwn(s: K): Promise<void> {
  const me = s.host.rank;
  if (s.cdLog !== null && s.cdLogged > s.cdFlushed[me]!) {
    const upto = s.cdLogged;
    const ssns = s.cdLogSsn.slice();
    await s.cdLog.sync();
    if (upto > s.cdFlushed[me]!) s.cdFlushed[me] = upto;
    for (let j = 0; j < s.host.size; j++) if (ssns[j]! > s.stableIn[j]!) s.stableIn[j] = ssns[j]!;
  }
}

/** Co-ordinated: is every rsn in need[] flushed by its owner (or below its durable checkpoint)? */
function ocCovered(s: K, need: Uint32Array): boolean {
  for (let k = 0; k < need.length; k++) if (need[k]! > s.cdFlushed[k]! && need[k]! > s.cdGc[k]!) return false;
  return true;
}

function ocWake(s: K): void {
  for (const w of s.ocWaits) {
    if (ocCovered(s, w.need)) {
      s.ocWaits.delete(w);
      w.done();
    }
  }
}

function ocAskFlush(s: K, k: number, rsn: number): void {
  const w = new Uint32Array([rsn]);
  s.host.transport.send(k, { kind: KIND_CONTROL as FrameKind, tag: TAG_CAUSAL_FLUSH, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
}

function ocTellFlushed(s: K, to: number): void {
  causalAnnounce(s);
  const me = s.host.rank;
  const w = new Uint32Array([s.cdGc[me]!, s.cdFlushed[me]!, s.cdRdFlushed[me]!]);
  s.host.transport.send(to, { kind: KIND_CONTROL as FrameKind, tag: TAG_CAUSAL_STABLE, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
}

/** Answer the flush requests whose rsn the own log has reached (a recovering process reaches it by replay). */
function ocServe(s: K): void {
  const me = s.host.rank;
  const rest: number[] = [];
  let sync = false;
  const now: number[] = [];
  for (let i = 0; i < s.ocFlushReq.length; i += 2) {
    const from = s.ocFlushReq[i]!;
    const rsn = s.ocFlushReq[i + 1]!;
    if (rsn <= s.cdFlushed[me]! || rsn <= s.cdGc[me]!) ocTellFlushed(s, from);
    else if (rsn <= s.cdLogged) {
      sync = true;
      now.push(from);
    } else rest.push(from, rsn);
  }
  s.ocFlushReq = rest;
  if (sync) {
    void ocFlushOwn(s).then(() => {
      for (const from of now) ocTellFlushed(s, from);
    });
  }
}

export async function onDeliver(s: K, _ev: DeliverEv): Promise<void> {
  // A recovering process answers a request once replay has appended the delivery it names.
  if (param<string>("causal.commit") === "coordinated" && s.ocFlushReq.length > 0) ocServe(s);
}

export async function onLive(s: K, _ev: StartEv): Promise<void> {
  if (param<string>("causal.commit") === "coordinated" && s.ocFlushReq.length > 0) ocServe(s);
}

export async function onWrite(s: K, _ev: WriteEv): Promise<void> {
  const n = s.host.size;
  const me = s.host.rank;
  const f = s.host.f;
  s.ocWriting++;
  try {
    await ocFlushOwn(s);
    const coord = param<string>("causal.commit") === "coordinated";
    let need: Uint32Array | null = null;
    const keys: number[] = [];
    const out: number[] = [++s.ocNextId, 0];
    const unstable: CDet[] = [];
    const visit = (d: CDet): void => {
      const k = d.k;
      const r = d.r;
      if (r <= s.cdGc[k]! || s.cdDets[k]!.get(r) !== d || causalStable(s, k, r, d, f)) return;
      unstable.push(d);
      if (coord && k !== me) {
        need ??= new Uint32Array(n);
        if (r > need[k]!) need[k] = r;
      } else {
        keys.push(k, r);
        out.push(d.src, d.ssn, k, r);
      }
    };
    const q = s.cdQ;
    if (s.cdQCommit < s.cdQBase) {
      // The whole log (a new incarnation, a peer restarted, or the queue let this cursor go).
      // visit() leaves out what k's checkpoint covers.
      for (let k = 0; k < n; k++) s.cdDets[k]!.forEachFrom(s.cdGc[k]! + 1, visit);
    } else {
      for (const d of s.ocUnstable) visit(d);
      for (let i = s.cdQCommit - s.cdQBase; i < q.length; i++) visit(q[i]!);
    }
    s.ocUnstable = unstable;
    s.cdQCommit = s.cdQBase + q.length;
    let flushed: Promise<void> | undefined;
    if (need !== null) {
      const want = need;
      flushed = new Promise<void>((resolve) => {
        s.ocWaits.add({ need: want, done: resolve });
      });
      for (let k = 0; k < n; k++) if (want[k]! > 0) ocAskFlush(s, k, want[k]!);
    }
    const reads: CRead[] = [];
    const readK: number[] = [];
    let len = out.length + 1;
    for (let k = 0; k < n; k++) {
      for (const d of s.cdReads[k]!.values()) {
        if (!causalReadStable(s, k, d.r, d.push, f)) {
          reads.push(d);
          readK.push(k);
          len += causalReadWords(d);
        }
      }
    }
    if ((keys.length > 0 || reads.length > 0) && n > 1) {
      out[1] = keys.length / 2;
      const words = new Uint32Array(len);
      words.set(out);
      let pos = out.length;
      words[pos++] = reads.length;
      for (let i = 0; i < reads.length; i++) pos = causalPutRead(words, pos, readK[i]!, reads[i]!);
      const acked = new Promise<void>((resolve) => {
        s.ocPending.set(out[0]!, { keys, reads, words, got: 0, done: resolve });
      });
      for (let j = 0; j < n; j++) {
        if (j !== me) s.host.transport.send(j, { kind: KIND_CONTROL as FrameKind, tag: TAG_CAUSAL_PUSH, piggyback: new Uint8Array(words.slice().buffer), payload: new Uint8Array(0) });
      }
      await acked;
    }
    if (flushed !== undefined) {
      await flushed;
      const by: number[] = [];
      for (let k = 0; k < n; k++) if (need![k]! > 0) by.push(k);
      s.host.trace({ type: "protocol", rank: me, what: `co-ordinated output commit: flushed by ${by.join(",")}` });
    }
  } finally {
    if (--s.ocWriting === 0) {
      const idle = s.ocIdle;
      s.ocIdle = [];
      for (const wake of idle) wake();
    }
  }
}

export async function onFinish(s: K, _ev: StartEv): Promise<void> {
  for (;;) {
    // A tick first: a write issued just before done() enters the chain, and a commit that just
    // ended reaches core/output-emit (the chain's continuation is microtasks only).
    await new Promise<void>((resolve) => {
      s.host.timers.after(0, resolve);
    });
    if (s.ocWriting === 0) break;
    await new Promise<void>((resolve) => {
      s.ocIdle.push(resolve);
    });
  }
}

export function onControl(s: K, ev: ControlEv): void {
  if (!s.cdReady) {
    // deferred by causal/det-log
  } else if (ev.tag === TAG_CAUSAL_STABLE) {
    // causal/det-log (earlier in the chain) has raised the sender's flushed rsn and checkpoint.
    if (s.ocWaits.size > 0) ocWake(s);
  } else if (ev.tag === TAG_CAUSAL_FLUSH) {
    s.ocFlushReq.push(ev.from, ev.words[0]!);
    ocServe(s);
  } else if (ev.tag === TAG_CAUSAL_PUSH) {
    const w = ev.words;
    let p = 2;
    for (let i = 0; i < w[1]!; i++, p += 4) causalAdd(s, w[p + 2]!, w[p + 3]!, w[p]!, w[p + 1]!, 0); // held here until a restart only
    const rc = w[p++]!;
    for (let i = 0; i < rc; i++) {
      causalAddRead(s, w[p]!, w[p + 1]!, w[p + 2]!, causalReadValue(w, p));
      p += 4 + ((w[p + 3]! + 3) >>> 2);
    }
    // Tagged with the pusher's incarnation: an ack of a dead incarnation's push can reach its successor
    // (queued while it was down), whose push ids start over.
    const a = new Uint32Array([w[0]!, ev.fromIncarnation]);
    s.host.transport.send(ev.from, { kind: KIND_CONTROL as FrameKind, tag: TAG_CAUSAL_ACK, piggyback: new Uint8Array(a.buffer), payload: new Uint8Array(0) });
  } else if (ev.tag === TAG_CAUSAL_ACK && ev.fromIncarnation >= s.cdPeerInc[ev.from]! && ev.words[1] === s.host.incarnation) {
    const p = s.ocPending.get(ev.words[0]!);
    if (p !== undefined) {
      const bit = 1 << ev.from;
      p.got |= bit;
      for (let i = 0; i < p.keys.length; i += 2) {
        const d = s.cdDets[p.keys[i]!]!.get(p.keys[i + 1]!);
        if (d !== undefined) d.push |= bit;
      }
      for (const d of p.reads) d.push |= bit;
      let c = 0;
      for (let b = p.got; b !== 0; b &= b - 1) c++;
      if (c >= s.host.f) {
        s.ocPending.delete(ev.words[0]!);
        p.done();
      }
    }
  }
}

export function onPeerIncarnation(s: K, ev: PeerIncarnationEv): void {
  // Determinants it acknowledged may be unstable again: the next commit examines the whole log.
  s.cdQCommit = -1;
  // Its copies of pending pushes are gone (or the push was lost in its crash): push again.
  const bit = 1 << ev.rank;
  // Its answer may have been lost with it (a request it had not reached yet in replay, or in flight).
  for (const w of s.ocWaits) if (w.need[ev.rank]! > s.cdFlushed[ev.rank]! && w.need[ev.rank]! > s.cdGc[ev.rank]!) ocAskFlush(s, ev.rank, w.need[ev.rank]!);
  for (const p of s.ocPending.values()) {
    p.got &= ~bit;
    s.host.transport.send(ev.rank, { kind: KIND_CONTROL as FrameKind, tag: TAG_CAUSAL_PUSH, piggyback: new Uint8Array(p.words.slice().buffer), payload: new Uint8Array(0) });
  }
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Causal output commit: make every held determinant stable before an output leaves.",
  implements: [{ module: "HowToOutputCommit" }, { variable: "output-commit-proto", value: "independent" }, { variable: "output-commit-proto", value: "coordinated" }],
  params: { "causal.commit": "string" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["causal/gather.ts", "checkpoint/independent.ts"], before: ["core/recovery.ts"] },
    // forced checkpoints and determinant records before core/deliver hands the message over
    onDeliver: { after: ["causal/det-log.ts"], before: ["core/deliver.ts"] },
    // logs and trackers go live before the timers start and core/recovery switches to live mode
    onLive: { after: ["causal/det-log.ts", "checkpoint/independent.ts"], before: ["core/recovery.ts"] },
    // numbered (core/output-seq), committed, then released (core/output-emit)
    onWrite: { after: ["core/output-seq.ts"], before: ["core/output-emit.ts"] },
    // filters and stability claims before the blocks that act on them
    onControl: { after: ["causal/gather.ts"], before: ["core/recovery.ts"] },
    // chain order
    onPeerIncarnation: { after: ["causal/gather.ts"], before: ["core/recovery.ts"] },
  },
  owns: {
    tags: ["TAG_CAUSAL_PUSH", "TAG_CAUSAL_ACK", "TAG_CAUSAL_FLUSH"],
  },
  // the blocks whose fields its K reads (DetLogState and GatherState are causal/det-log's and causal/gather's)
  requires: ["causal/det-log.ts", "causal/gather.ts", "core/retransmit.ts"],
};
