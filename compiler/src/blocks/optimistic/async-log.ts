/**
 * Optimistic logging: `receive: ... Log determinant, data asynchronously on
 * <stable storage>` (LogEventDeterminant + LogEventInfo + HowToLog async).
 *
 * A delivery appends `#m = <source, ssn, dest, rsn>` with the message's
 * piggyback (its vector clock) and contents to the optimistic log, without
 * waiting: the application sees the message at once. The flush timer (and
 * output commit, and rollback) syncs the log; only then are the deliveries
 * stable here, and only then does `stableIn` rise, so senders keep their
 * copies in the retransmission buffer until the receiver's log holds them.
 *
 * The same log holds the persistent incarnation-end table and rollback cuts
 * (little-endian u32 words):
 *   DELIV  [1, source, ssn, rsn, pbLen, pb[0..pbLen-1]] payload
 *   END    [2, j, c, e]        incarnation c of j ended at ts e (learned from a token)
 *   CUT    [3, cut, newInc]    this process discarded its deliveries after rsn `cut`
 *                              and began FT incarnation newInc (= END(self, newInc-1, cut))
 *
 * `optHist` is the current history (every delivery since the initial state,
 * replayed ones included): rollback re-executes a prefix of it.
 */
import type { LogStore } from "@egida/runtime-core/spi";
import type { InMsg, K } from "../kernel.js";
import type { DeliverEv, StartEv, TimerEv } from "../hooks.js";
import { param } from "../params.js";

export interface Fields {
  optLog: LogStore | null;
  /** Deliveries of the current history, in rsn order (optHist[i] has rsn i + 1). */
  optHist: InMsg[];
  /** optHist[0 .. optStableUpTo-1] are counted in stableIn. */
  optStableUpTo: number;
  /** Bumped by every rollback: a sync that started before it must not raise stableIn. */
  optEpoch: number;
}

export function init(s: K): void {
  s.optLog = null;
  s.optHist = [];
  s.optStableUpTo = 0;
  s.optEpoch = 0;
}

export async function onOpen(s: K, _ev: StartEv): Promise<void> {
  s.optLog = await s.host.storage.openLog(param<string>("log.medium"), "optimistic");
}

export async function onDeliver(s: K, ev: DeliverEv): Promise<void> {
  const m = ev.msg;
  if (!ev.replay) {
    const pbLen = m.pb.length;
    const head = 20 + pbLen * 4;
    const rec = new Uint8Array(head + m.payload.length);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, 1, true);
    dv.setUint32(4, m.from, true);
    dv.setUint32(8, m.ssn, true);
    dv.setUint32(12, ev.rsn, true);
    dv.setUint32(16, pbLen, true);
    for (let i = 0; i < pbLen; i++) dv.setUint32(20 + 4 * i, m.pb[i]!, true);
    rec.set(m.payload, head);
    s.optLog!.append(rec); // asynchronous: no sync before the application sees it
    s.st.bytesLogged += rec.length;
  }
  s.optHist.push(m);
}

export function onFlushTimer(s: K, _ev: TimerEv): void {
  const upTo = s.optHist.length;
  const epoch = s.optEpoch;
  void s.optLog!.sync().then(() => {
    // Records appended before the sync are durable: those messages are stable here
    // (unless a rollback intervened or is pending: its purge owns stableIn then).
    if (s.optEpoch === epoch && !s.optRbWanted && upTo > s.optStableUpTo) {
      for (let i = s.optStableUpTo; i < upTo; i++) {
        const m = s.optHist[i]!;
        if (m.ssn > s.stableIn[m.from]!) s.stableIn[m.from] = m.ssn;
      }
      s.optStableUpTo = upTo;
    }
  });
}
