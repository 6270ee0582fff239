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
 * `read` events are non-deterministic events like receives (paper §2-3):
 * `ctx.read(produce)` appends the value to the same log, again without
 * waiting, and starts a new state interval (optimistic/clock.ts ticks `optTs`
 * for it). A read not yet durable when the process crashes is lost with every
 * state after it, exactly like an unlogged delivery: the recovery's
 * incarnation end stops before it, so whatever depended on it is an orphan.
 * When a step is re-executed (recovery or rollback replay), a read whose
 * state interval survived gets its logged value back instead of calling
 * `produce` again.
 *
 * The same log holds the persistent incarnation-end table and rollback cuts
 * (little-endian u32 words). DELIV and READ records are the events of the
 * history, in order; the i-th event of a history has timestamp i, which the
 * record carries: a record of event ts replaces every logged event from ts on
 * (a replay plan cut short by a token continues live from there).
 *   DELIV  [1, source, ssn, rsn, ts, pbLen, pb[0..pbLen-1]] payload
 *   END    [2, j, c, e]        incarnation c of j ended at ts e (learned from a token)
 *   CUT    [3, cut, newInc, ts] this process kept its first `cut` deliveries (its
 *                              first `ts` events), discarded the rest, and began FT
 *                              incarnation newInc (= END(self, newInc-1, ts))
 *   READ   [4, ts, rsn, idx]  value: the idx-th read of step rsn (0 = onStart), event ts
 *
 * `optHist` is the current history (every delivery since the initial state,
 * replayed ones included; packed, optimistic/hist), `optReads` its reads:
 * rollback re-executes a prefix of them. Records are encoded in one scratch
 * buffer the log copies on append: a fresh record per event, viewed through a
 * DataView, cost an off-heap ArrayBuffer per delivery.
 */
import type { LogStore } from "@egida/runtime-core/spi";
import type { DeliverEv, Kernel, ReadEv, StartEv, TimerEv } from "../hooks.js";
import { param } from "../params.js";
import { type OptHist, histFrom, histPush, histSsn, newOptHist } from "@egida/runtime-core/protocol-lib";
import type { Fields as OptClock } from "./clock.js";
import type { Fields as CoreSsn } from "../core/ssn.js";
import type { Fields as CoreReceive } from "../core/receive.js";
import type { Fields as CoreRetransmit } from "../core/retransmit.js";

type K = Kernel & Fields & OptClock & CoreSsn & CoreReceive & CoreRetransmit;

/** A read of the current history: its event timestamp, step, index within the step, value. */
export interface OptRead {
  readonly ts: number;
  readonly rsn: number;
  readonly idx: number;
  readonly value: Uint8Array;
}

export interface Fields {
  optLog: LogStore | null;
  /** Deliveries of the current history with their event timestamps, in rsn order (entry i has rsn i + 1). */
  optHist: OptHist;
  /** Scratch record buffer (the log copies what is appended) and its view. */
  optRec: Uint8Array;
  optRecDv: DataView;
  /** Reads of the current history, in order. */
  optReads: OptRead[];
  /** Logged reads a replay returns instead of producing, by timestamp. */
  optRdReplay: Map<number, OptRead>;
  /** The step the last read ran in (-1: none since the last restore), and the next read's index in it. */
  optRdStep: number;
  optRdIdx: number;
  /** Deliveries (counted from the initial state) already counted in stableIn. */
  optStableUpTo: number;
  /**
   * The rollback base: the latest durable checkpoint (optimistic/checkpoint; null: the
   * initial state), its delivery count and event timestamp. `optHist[0]` is delivery
   * optBaseRsn + 1 and `optReads` start after event optBaseTs: nothing before the base
   * is ever rolled back (a committed checkpoint depends on no state that can be lost).
   */
  optCkpt: { readonly app: Uint8Array; readonly state: Record<string, unknown> } | null;
  optBaseRsn: number;
  optBaseTs: number;
  /** Bumped by every rollback: a sync that started before it must not raise stableIn. */
  optEpoch: number;
}

export function init(s: K): void {
  s.optLog = null;
  s.optHist = newOptHist();
  s.optRec = new Uint8Array(256);
  s.optRecDv = new DataView(s.optRec.buffer);
  s.optReads = [];
  s.optRdReplay = new Map();
  s.optRdStep = -1;
  s.optRdIdx = 0;
  s.optStableUpTo = 0;
  s.optEpoch = 0;
  s.optCkpt = null;
  s.optBaseRsn = 0;
  s.optBaseTs = 0;
}

export async function onOpen(s: K, _ev: StartEv): Promise<void> {
  s.optLog = await s.host.storage.openLog(param<string>("log.medium"), "optimistic");
}

export async function onDeliver(s: K, ev: DeliverEv): Promise<void> {
  const m = ev.msg;
  if (!ev.replay) {
    const pbLen = m.pb.length;
    const head = 24 + pbLen * 4;
    const len = head + m.payload.length;
    if (len > s.optRec.length) optGrowRec(s, len);
    const rec = s.optRec;
    const dv = s.optRecDv;
    dv.setUint32(0, 1, true);
    dv.setUint32(4, m.from, true);
    dv.setUint32(8, m.ssn, true);
    dv.setUint32(12, ev.rsn, true);
    dv.setUint32(16, s.optTs, true);
    dv.setUint32(20, pbLen, true);
    for (let i = 0; i < pbLen; i++) dv.setUint32(24 + 4 * i, m.pb[i]!, true);
    const payload = m.payload;
    const pn = payload.length;
    if (pn <= 64) for (let i = 0; i < pn; i++) rec[head + i] = payload[i]!;
    else rec.set(payload, head);
    s.optLog!.append(rec.subarray(0, len)); // asynchronous: no sync before the application sees it
    s.st.bytesLogged += len;
  }
  histPush(s.optHist, m, s.optTs);
}

/** A scratch record buffer of at least `len` bytes (contents not kept). */
function optGrowRec(s: K, len: number): void {
  s.optRec = new Uint8Array(Math.max(2 * s.optRec.length, len));
  s.optRecDv = new DataView(s.optRec.buffer);
}

export function onRead(s: K, ev: ReadEv): void {
  // Numbered synchronously, so concurrent reads of one step get their events in call order,
  // and nothing here waits: a replayed read returns exactly as the original one did (at once).
  if (s.rsn !== s.optRdStep) {
    s.optRdStep = s.rsn;
    s.optRdIdx = 0;
  }
  const rsn = s.rsn;
  const idx = s.optRdIdx++;
  // A new state interval: sends from here on carry it (optimistic/clock.ts onSend).
  const ts = ++s.optTs;
  const logged = s.optRdReplay.get(ts);
  if (logged !== undefined) {
    s.optRdReplay.delete(ts);
    if (logged.rsn !== rsn || logged.idx !== idx) {
      s.host.unrecoverable(`replay diverged: event ${ts} was read ${logged.idx} of step ${logged.rsn}, now read ${idx} of step ${rsn}`);
    }
    s.optReads.push({ ts, rsn, idx, value: logged.value });
    ev.value = logged.value;
  } else {
    // Appended once the value is at hand (a promise from `produce`: when it resolves).
    const append = (value: Uint8Array): Uint8Array => {
      const len = 16 + value.length;
      if (len > s.optRec.length) optGrowRec(s, len);
      const rec = s.optRec;
      const dv = s.optRecDv;
      dv.setUint32(0, 4, true);
      dv.setUint32(4, ts, true);
      dv.setUint32(8, rsn, true);
      dv.setUint32(12, idx, true);
      rec.set(value, 16);
      s.optLog!.append(rec.subarray(0, len)); // asynchronous, like a delivery: the state interval it starts is lost if this is
      s.st.bytesLogged += len;
      s.optReads.push({ ts, rsn, idx, value });
      return value;
    };
    const v = ev.produce();
    ev.value = v instanceof Uint8Array ? append(v) : v.then(append);
  }
}

export async function onLive(s: K, ev: StartEv): Promise<void> {
  // Replay re-ran every surviving step; a logged value nobody asked for again means the app
  // is not piecewise deterministic (its reads depend on something outside the log).
  if (ev.incarnation > 0 && s.optRdReplay.size > 0) {
    s.host.unrecoverable(`replay diverged: ${s.optRdReplay.size} logged read value(s) were not read again (first: event ${[...s.optRdReplay.keys()][0]})`);
  }
}

export function onFlushTimer(s: K, _ev: TimerEv): void {
  const upTo = s.optBaseRsn + s.optHist.length;
  const epoch = s.optEpoch;
  void s.optLog!.sync().then(() => {
    // Records appended before the sync are durable: those messages are stable here
    // (unless a rollback intervened or is pending: its purge owns stableIn then).
    // Counted from the initial state: a checkpoint may have dropped the history's head meanwhile.
    if (s.optEpoch === epoch && !s.optRbWanted && upTo > s.optStableUpTo) {
      const base = s.optBaseRsn;
      for (let a = Math.max(s.optStableUpTo, base); a < upTo; a++) {
        const from = histFrom(s.optHist, a - base);
        const ssn = histSsn(s.optHist, a - base);
        if (ssn > s.stableIn[from]!) s.stableIn[from] = ssn;
      }
      s.optStableUpTo = upTo;
    }
  });
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Receive determinants, message contents and read values logged asynchronously; flushed by the timer.",
  implements: [{ module: "LogEventDeterminant" }, { variable: "event-info", value: "determinant" }, { variable: "event-info", value: "message" }, { variable: "how-to-log", value: "asynchronously" }, { variable: "storage", value: "local-disk" }, { variable: "storage", value: "nfs-disk" }],
  params: { "log.medium": "string" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["optimistic/clock.ts"] },
    // stores are opened and read back before onStart may replay
    onOpen: { after: ["checkpoint/restore.ts"] },
    // forced checkpoints and determinant records before core/deliver hands the message over
    onDeliver: { after: ["optimistic/clock.ts"] },
    // logged or replayed value before core/read produces one
    onRead: { before: ["core/read.ts"] },
    // logs and trackers go live before the timers start and core/recovery switches to live mode
    onLive: { after: ["core/timers.ts"] },
    // syncs before the blocks that announce what they made stable
    onFlushTimer: { after: ["core/retransmit.ts"] },
  },
  owns: {
    records: [{ log: "optimistic", layout: "DELIV [1, source, ssn, rsn, ts, pbLen, pb…] payload | END [2, j, c, e] | CUT [3, cut, newInc, ts] | READ [4, ts, rsn, idx] value" }],
  },
  // the blocks whose fields its K reads
  requires: ["core/receive.ts", "core/retransmit.ts", "core/ssn.ts", "optimistic/clock.ts"],
};
