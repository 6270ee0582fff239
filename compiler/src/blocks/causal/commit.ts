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
 * Finish (Protocol.finish, every rank is done): an app may write without
 * awaiting and call done(), so a commit can still wait for its
 * acknowledgements when the launcher would stop the ranks. onFinish resolves
 * only once no write is between here and core/output-emit: it counts the
 * commits in flight and, after the last one ends, waits one timer tick so
 * the rest of the onWrite chain (output-emit hands the output to the sink,
 * synchronously) has run.
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import type { K } from "../kernel.js";
import type { ControlEv, PeerIncarnationEv, StartEv, WriteEv } from "../hooks.js";
import { KIND_CONTROL, TAG_CAUSAL_ACK, TAG_CAUSAL_PUSH } from "../tags.js";
import { causalAdd, causalAddRead, causalPutRead, causalReadStable, causalReadValue, causalReadWords, causalStable, type CRead } from "./stability.js";

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
}

export function init(s: K): void {
  s.ocNextId = 0;
  s.ocPending = new Map();
  s.ocWriting = 0;
  s.ocIdle = [];
}

export async function onWrite(s: K, _ev: WriteEv): Promise<void> {
  const n = s.host.size;
  const me = s.host.rank;
  const f = s.host.f;
  s.ocWriting++;
  try {
    if (s.cdLog !== null && s.cdLogged > s.cdFlushed[me]!) {
      const upto = s.cdLogged;
      const ssns = s.cdLogSsn.slice();
      await s.cdLog.sync();
      if (upto > s.cdFlushed[me]!) s.cdFlushed[me] = upto;
      for (let j = 0; j < n; j++) if (ssns[j]! > s.stableIn[j]!) s.stableIn[j] = ssns[j]!;
    }
    const keys: number[] = [];
    const out: number[] = [++s.ocNextId, 0];
    for (let k = 0; k < n; k++) {
      for (const [r, d] of s.cdDets[k]!) {
        if (!causalStable(s, k, r, d, f)) {
          keys.push(k, r);
          out.push(d.src, d.ssn, k, r);
        }
      }
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
  // Its copies of pending pushes are gone (or the push was lost in its crash): push again.
  const bit = 1 << ev.rank;
  for (const p of s.ocPending.values()) {
    p.got &= ~bit;
    s.host.transport.send(ev.rank, { kind: KIND_CONTROL as FrameKind, tag: TAG_CAUSAL_PUSH, piggyback: new Uint8Array(p.words.slice().buffer), payload: new Uint8Array(0) });
  }
}
