/**
 * The durable-watermark gate of log/watermark (not a block: its helpers are
 * copied into the generated code of the blocks that call them). Sends are
 * held by log/watermark's onSend through `wmHold` (core/transmit and
 * log/send-log skip a held send; their onRelease sends it later); outputs
 * wait in log/watermark's onWrite through `wmAfter`.
 */
import type { Kernel, SendEv } from "../hooks.js";
import type { Fields as LogReadLog } from "./read-log.js";
import type { Fields as LogEventLog } from "./event-log.js";
import type { Fields as CoreSsn } from "../core/ssn.js";
import type { Fields as CoreReceive } from "../core/receive.js";
import type { Fields as CoreRetransmit } from "../core/retransmit.js";

type K = Kernel & LogReadLog & LogEventLog & CoreSsn & CoreReceive & CoreRetransmit & WatermarkState;

/** A held send, with the lsns (event log, read log) that must be durable before it leaves. */
export interface WmHeld {
  readonly to: number;
  readonly ssn: number;
  readonly pb: Uint32Array;
  readonly payload: Uint8Array;
  readonly ev: number;
  readonly rd: number;
}

/** An output waiting for the records appended before it. */
export interface WmWaiter {
  readonly ev: number;
  readonly rd: number;
  readonly resolve: () => void;
}

/**
 * The fields of log/watermark this gate works on (log/watermark's `Fields`
 * extends this). Here rather than in a state file: their types are this
 * library's, and log/watermark imports it anyway.
 */
export interface WatermarkState {
  /** Held sends, in send order. */
  wmQ: WmHeld[];
  wmWaiters: WmWaiter[];
  /** Records with lsn below these are durable (event log, read log). */
  wmEv: number;
  wmRd: number;
  /** A round is scheduled or in flight. */
  wmBusy: boolean;
  /** Receiver-based logging: a durable record makes its message stable here. */
  wmMsg: boolean;
}

/** The read log's end (0 without one: a test may compose the blocks without log/read-log). */
function wmRdEnd(s: K): number {
  return s.rdLog?.nextLsn ?? 0;
}

/** Whether a record appended so far is not yet known durable, or a send is held (later sends queue behind it). */
export function wmDirty(s: K): boolean {
  return s.wmQ.length > 0 || s.evLog!.nextLsn > s.wmEv || wmRdEnd(s) > s.wmRd;
}

/**
 * A send: when anything it may depend on is not durable yet, hold it (its piggyback words copied from `s.pbw`)
 * and return true; the round that covers it hands it to the onRelease chain. False: it may leave now.
 */
export function wmHold(s: K, ev: SendEv): boolean {
  if (!wmDirty(s)) return false;
  s.wmQ.push({ to: ev.to, ssn: ev.ssn, pb: s.pbw.slice(0, ev.pbLen), payload: ev.payload, ev: s.evLog!.nextLsn, rd: wmRdEnd(s) });
  wmKick(s);
  return true;
}

/** Resolves once every record appended before the call is durable. */
export function wmAfter(s: K): Promise<void> | void {
  const ev = s.evLog!.nextLsn;
  const rd = wmRdEnd(s);
  if (ev <= s.wmEv && rd <= s.wmRd) return;
  return new Promise<void>((resolve) => {
    s.wmWaiters.push({ ev, rd, resolve });
    wmKick(s);
  });
}

/** Schedules a round unless one is pending: a microtask later, so the deliveries the pump runs now ride it. */
function wmKick(s: K): void {
  if (s.wmBusy) return;
  s.wmBusy = true;
  void Promise.resolve().then(() => wmRound(s));
}

/** One round: sync each log that has new records, then advance the watermark and release what it covers. */
function wmRound(s: K): void {
  const ev = s.evLog!.nextLsn;
  const rd = wmRdEnd(s);
  // Every delivery so far was appended (or replayed from the log, or restored from a checkpoint).
  const dlv = s.wmMsg ? s.delivered.slice() : null;
  const evSync = ev > s.wmEv ? s.evLog!.sync() : undefined;
  const rdSync = rd > s.wmRd ? s.rdLog?.sync() : undefined;
  Promise.all([evSync, rdSync]).then(
    () => {
      if (ev > s.wmEv) s.wmEv = ev;
      if (rd > s.wmRd) s.wmRd = rd;
      if (dlv !== null) for (let j = 0; j < dlv.length; j++) if (dlv[j]! > s.stableIn[j]!) s.stableIn[j] = dlv[j]!;
      s.wmBusy = false;
      wmRelease(s);
      if (s.wmQ.length > 0 || s.wmWaiters.length > 0) wmKick(s);
    },
    (e: unknown) => {
      try {
        s.host.unrecoverable(`determinant log sync: ${String(e)}`);
      } catch {
        // unrecoverable() throws to unwind its caller; nothing held leaves.
      }
    },
  );
}

/** Hands every held send and output the watermark now covers on, in order. */
function wmRelease(s: K): void {
  const q = s.wmQ;
  let i = 0;
  while (i < q.length && q[i]!.ev <= s.wmEv && q[i]!.rd <= s.wmRd) i++;
  if (i > 0) {
    const out = q.splice(0, i);
    for (const h of out) s.onRelease({ to: h.to, ssn: h.ssn, pb: h.pb, payload: h.payload });
  }
  const w = s.wmWaiters;
  let k = 0;
  while (k < w.length && w[k]!.ev <= s.wmEv && w[k]!.rd <= s.wmRd) k++;
  if (k > 0) for (const x of w.splice(0, k)) x.resolve();
}
