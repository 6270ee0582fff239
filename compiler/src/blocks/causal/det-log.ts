/**
 * Causal logging (family-based logging, Alvisi–Hoppe–Marzullo; Manetho):
 * LogEventDeterminant on volatile memory + PiggybackLogging.
 *
 * Every process keeps a volatile log of the receive determinants it knows,
 * #m = <source, ssn, dest, rsn> (its own, and those piggybacked to it), and
 * (with `dependency matrix`) the matrix DM: DM[j][k] = the highest rsn of k's
 * deliveries that j is known to depend on.
 *
 * Send: piggyback [DM rows (dependency-matrix only: dmPut)] [count]
 * [src, ssn, dest, rsn] × count: every logged determinant that is not stable
 * (causal/stability.ts) and that the destination may lack (not its own; not
 * one the destination is known to depend on or to hold; not one put on an
 * earlier message of this incarnation to it: cdQ / cdQTold). A send visits
 * only the determinants learnt since the previous message to its
 * destination, so its cost does not grow with the log since the checkpoint.
 * Deliver (before the application sees the message): merge the sender's DM
 * rows (and depend on the sender's own row as it told it, cdDmHeard), merge
 * the piggybacked determinants, then create this delivery's determinant.
 * During replay the resent message carries its original piggyback, so the
 * log and DM are rebuilt exactly as they were.
 *
 * Stability matrix (`stability matrix`): SM[j][k] = the rsn up to which j
 * holds (got on a delivery: its recovery regains it) or knows stable for good
 * every determinant of k. Each process computes only its own row
 * (causal/stability causalSmAdvance) and learns the others' by max-merging
 * the entries piggybacked to it; a message carries only the entries that
 * changed since the last message to that destination ([count] [index,
 * value] × count: channels deliver in ssn order exactly once, every entry is
 * monotone, and knowing less only makes a process send more, so a delta lost
 * to a regenerated or dropped message is harmless). Send: skip #(k, r) when
 * SM[dest][k] >= r or f + 1 rows cover r (stable).
 *
 * The log and DM are in every checkpoint (a checkpointed state depends on
 * them). A determinant is dropped only when its owner's durable checkpoint
 * covers it (TAG_CAUSAL_STABLE), never merely for being stable.
 *
 * Read determinants (`ctx.read`): <self, step rsn, idx, value>, kept in the
 * same volatile log and piggybacked after the receive determinants as
 * [count] [k, rsn, idx, byteLength, value words] × count to every
 * destination not known to hold them (not k; not a j with DM[j][k] > rsn —
 * it depends on k's state after that step, so it got them on the way; not a
 * push acknowledger). Not pruned by f-stability: every process that depends
 * on a read value holds it, so recovery finds it whenever anything live
 * depends on it. A recovering process takes read values from the gather
 * round (causal/gather), and without a checkpoint (onStart re-runs inside
 * checkpoint/restore, before that round) starts the round at its first read.
 * A read nobody holds was seen by nobody: it is produced afresh.
 */
import type { FrameKind, LogStore } from "@egida/runtime-core/spi";
import type { CheckpointEv, ControlEv, DeliverEv, Kernel, PeerIncarnationEv, ReadEv, RecvEv, RestoreEv, SendEv, StartEv, TimerEv } from "../hooks.js";
import { param } from "../params.js";
import { KIND_CONTROL, MODE_LIVE, TAG_CAUSAL_ACK, TAG_CAUSAL_DETS, TAG_CAUSAL_FLUSH, TAG_CAUSAL_GATHER, TAG_CAUSAL_PUSH, TAG_CAUSAL_STABLE } from "../tags.js";
import { CAUSAL_DM_FULL, CAUSAL_SM_FULL, causalAdd, causalAddRead, causalGc, causalPutRead, causalReadsFlushed, causalReadValue, causalReadWords, causalSmAdvance, causalSmStable, causalStable, causalSvAdvance, DetTable, type CDet, type CRead } from "@egida/runtime-core/protocol-lib";
import { causalAnnounce, causalGatherStart, type GatherState, type DetLogState } from "./stability.js";
import type { PumpState } from "../core/pump-state.js";
import type { Fields as CorePump } from "../core/pump.js";
import type { Fields as CoreSsn } from "../core/ssn.js";
import type { Fields as CoreReceive } from "../core/receive.js";

type K = Kernel & Fields & PumpState & CorePump & CoreSsn & CoreReceive & GatherState;

export interface Fields extends DetLogState {
  /** Volatile determinant log: per dest k, rsn → determinant. */
  cdDets: DetTable[];
  /**
   * The determinants in the order this process learnt them (the same objects as cdDets), so that a
   * send visits only those learnt since the last send to that destination, not the log since the
   * checkpoint. Entry i has sequence number cdQBase + i; causal/stability causalQTrim drops the
   * prefix every destination has passed (entries its owner's checkpoint covers are skipped).
   */
  cdQ: CDet[];
  cdQBase: number;
  /**
   * Per destination: the determinants with sequence numbers below this were put on, or left off for
   * good, a message to it of this incarnation (channels deliver in ssn order exactly once, so it
   * holds every one put on before it delivers the next message). -1: not known, the next send walks
   * the whole log (at the start of an incarnation, after a peer restarts, and while replaying).
   */
  cdQTold: number[];
  /** causal/commit's cursor into cdQ (DetLogState.cdQCommit). */
  cdQCommit: number;
  /** Dependency-matrix tracking: per destination, the n × n entries as last piggybacked to it (not checkpointed: zero = send again). */
  cdDmTold: Uint32Array;
  /**
   * Dependency-matrix tracking: per source j, row j of DM as j itself piggybacked it here (row j of
   * cdDm may be higher, learnt through third processes from j's later messages). Delivering a
   * message makes this process depend on exactly this row of its sender.
   */
  cdDmHeard: Uint32Array;
  /** Volatile read determinants: per k, `${rsn}.${idx}` → value. */
  cdReads: Map<string, CRead>[];
  /** The step the last read ran in, and the next read's index within it. */
  cdRdStep: number;
  cdRdIdx: number;
  /** Recovery: gathered values of own reads not re-read yet, by `${rsn}.${idx}`; reads from this step on are not in the restored checkpoint. */
  cdRdReplay: Map<string, Uint8Array>;
  cdReadFrom: number;
  /** Dependency matrix, n×n row-major (own row: what this process depends on). */
  cdDm: Uint32Array;
  /** Stability vector: per k, every determinant of k up to this rsn is known stable (stability-vector tracking; else 0). */
  cdSv: Uint32Array;
  /** Stability matrix, n×n row-major: SM[j][k] = j holds or knows stable every determinant of k up to it (stability-matrix tracking; else 0). */
  cdSm: Uint32Array;
  /** Stability matrix: per destination, the n×n entries as last piggybacked to it (not checkpointed: zero = send again). */
  cdSmTold: Uint32Array;
  /** Per k: rsn covered by k's latest durable checkpoint (dets at or below are dropped). */
  cdGc: Uint32Array;
  /** Per k: rsn up to which k's determinants are on its stable log (hybrid). */
  cdFlushed: Uint32Array;
  /** Last [gc, flushed, reads flushed] of this rank told to the others. */
  cdSaid: Uint32Array;
  /**
   * Asynchronous read log (`causal.readFlush`): per k, k's reads of every step before this are on
   * k's stable read log (k's current incarnation: reset when k restarts); else 0.
   */
  cdRdFlushed: Uint32Array;
  /** Latest known incarnation per peer (acks of older incarnations are void). */
  cdPeerInc: Uint32Array;
  /** The protocol state is restored: causal control frames can be served (earlier ones wait in cdDeferred). */
  cdReady: boolean;
  cdDeferred: ControlEv[];
  /** Hybrid: the asynchronous stable determinant log (opened by causal/stable-dets), else null. */
  cdLog: LogStore | null;
  /** Hybrid: highest rsn appended to cdLog, and per source the highest ssn appended (contents logged). */
  cdLogged: number;
  cdLogSsn: Uint32Array;
}

/**
 * log/read-log's state, read when `causal.readFlush` (it is then selected too): a generated protocol
 * has those fields only with that block, so the other causal protocols must not name them on `s`.
 */
interface ReadLogView {
  readonly rdReplay: Map<string, Uint8Array>;
  readonly rdFlushed: number;
}

export function init(s: K): void {
  s.cdDets = [];
  for (let i = 0; i < s.host.size; i++) s.cdDets.push(new DetTable());
  // (No local here: the inline back end may hoist these statements to field initialisers.)
  s.cdQ = [];
  s.cdQBase = 0;
  // A first incarnation has sent nothing: every destination knows nothing from it yet. A plain array of
  // small integers, not a Float64Array: a number read from a Float64Array is a heap number, and
  // causalQTrim storing one in cdQBase would turn that field from small integer to double, change
  // the protocol object's map mid-run and deoptimize every hot function that reads it (pumpRun,
  // txSend, dmPut, holders: twice per rank on jacobi, traced with --trace-deopt).
  s.cdQTold = Array.from({ length: s.host.size }, () => 0);
  // -1 until the first output: an app that never writes does not keep the queue for it.
  s.cdQCommit = -1;
  s.cdDmTold = new Uint32Array(param<string>("causal.tracking") === "dependency-matrix" ? s.host.size * s.host.size * s.host.size : 0);
  s.cdDmHeard = new Uint32Array(s.host.size * s.host.size);
  s.cdReads = [];
  for (let i = 0; i < s.host.size; i++) s.cdReads.push(new Map());
  s.cdRdStep = -1;
  s.cdRdIdx = 0;
  s.cdRdReplay = new Map();
  s.cdReadFrom = 0;
  s.cdDm = new Uint32Array(s.host.size * s.host.size);
  s.cdSv = new Uint32Array(s.host.size);
  s.cdSm = new Uint32Array(s.host.size * s.host.size);
  s.cdSmTold = new Uint32Array(param<string>("causal.tracking") === "stability-matrix" ? s.host.size * s.host.size * s.host.size : 0);
  s.cdGc = new Uint32Array(s.host.size);
  s.cdFlushed = new Uint32Array(s.host.size);
  s.cdSaid = new Uint32Array(3);
  s.cdRdFlushed = new Uint32Array(s.host.size);
  s.cdPeerInc = new Uint32Array(s.host.size);
  // A first incarnation has nothing to restore: it serves causal control frames from creation on. Not
  // from onOpen: blocks before it in the chain await storage there (checkpoint/restore opens the
  // checkpoint store), and a PUSH or GATHER arriving meanwhile would wait for a restore that never
  // comes (a real-process hang: the pusher's output commit, or a peer's gather round, never ended).
  s.cdReady = s.host.incarnation === 0;
  s.cdDeferred = [];
  s.cdLog = null;
  s.cdLogged = 0;
  s.cdLogSsn = new Uint32Array(s.host.size);
}

export async function onOpen(s: K, _ev: StartEv): Promise<void> {
  // Holder sets are u32 bitmasks.
  if (s.host.size > 31) s.host.unrecoverable(`causal logging supports at most 31 ranks (got ${s.host.size})`);
}

/**
 * A message of an incarnation older than one this process knows of was sent before that crash and
 * arrived after the restart (over TCP the old and the new incarnation's frames travel on different
 * connections, unordered). Its piggyback was not in the answer this process gave (or will give) the
 * new incarnation's gather round, so delivering it could make this process depend on a delivery the
 * recovery does not replay. Dropped: the new incarnation resends whatever its recovered history sends.
 * (Messages of the old incarnation held back before the restart stay: the gather answer counts them.)
 */
export function acceptReceive(s: K, ev: RecvEv): boolean {
  return ev.fromIncarnation >= s.cdPeerInc[ev.from]!;
}

export function onSend(s: K, ev: SendEv): void {
  const tracking = param<string>("causal.tracking") === "dependency-matrix";
  const sv = param<string>("causal.tracking") === "stability-vector";
  const smx = param<string>("causal.tracking") === "stability-matrix";
  const n = s.host.size;
  const f = s.host.f;
  const to = ev.to;
  const dw = sv ? 5 : 4;
  // What a destination is known to hold advances only on live messages: a message regenerated by
  // replay may be a duplicate its destination discards.
  const live = s.host.incarnation === 0 || s.mode === MODE_LIVE;
  const fromSeq = live ? s.cdQTold[to]! : -1;
  let total = 0;
  if (fromSeq >= 0) total = dw * (s.cdQ.length - (fromSeq - s.cdQBase));
  else for (const m of s.cdDets) total += dw * m.size;
  for (const m of s.cdReads) for (const d of m.values()) total += causalReadWords(d);
  const need = ev.pbLen + (tracking ? 1 + n * n + 2 * n : 0) + (sv ? n : 0) + (smx ? 1 + 2 * n * n : 0) + 2 + total;
  if (s.pbw.length < need) {
    const w = new Uint32Array(need * 2);
    w.set(s.pbw);
    s.pbw = w;
  }
  let pos = ev.pbLen;
  if (tracking) pos = dmPut(s, to, pos, live);
  if (sv) {
    s.pbw.set(s.cdSv, pos);
    pos += n;
  }
  if (smx) {
    // The entries that grew since the last message to `to`, as [index, value] pairs; or, when that
    // is no shorter, the whole matrix (count word CAUSAL_SM_FULL).
    const base = to * n * n;
    let sc = 0;
    for (let i = 0; i < n * n; i++) if (s.cdSm[i]! > s.cdSmTold[base + i]!) sc++;
    if (2 * sc >= n * n) {
      s.pbw[pos++] = CAUSAL_SM_FULL;
      s.pbw.set(s.cdSm, pos);
      pos += n * n;
      s.cdSmTold.set(s.cdSm, base);
    } else {
      s.pbw[pos++] = sc;
      for (let i = 0; i < n * n; i++) {
        const v = s.cdSm[i]!;
        if (v > s.cdSmTold[base + i]!) {
          s.cdSmTold[base + i] = v;
          s.pbw[pos] = i;
          s.pbw[pos + 1] = v;
          pos += 2;
        }
      }
    }
  }
  const countAt = pos++;
  let c = 0;
  // Only what `to` is not known to hold: the determinants learnt since the last message to it, or
  // (not known) the whole log. Each is put on or left off for good (the conditions below only
  // become true, a push acknowledgement until its acknowledger restarts, which resets cdQTold), so
  // `to` is then known to hold the lot.
  const put = (d: CDet): void => {
    const k = d.k;
    const r = d.r;
    // Its own; covered by k's checkpoint; on k's stable log.
    if (k === to || r <= s.cdGc[k]! || r <= s.cdFlushed[k]!) return;
    if (smx) {
      // It holds (k, r) or knows it stable; or it is stable for good. A push acknowledger gets it
      // too: its copy is lost on a restart, so its row cannot count the push, and without a
      // delivery that carries it its row would stop short of it for good.
      if (s.cdSm[to * n + k]! >= r || causalSmStable(s, k, r, d, f)) return;
    } else {
      // It depends on (k, r): holds it or it is stable.
      if (tracking && s.cdDm[to * n + k]! >= r) return;
      if (((d.push | d.hold) & (1 << to)) !== 0 || causalStable(s, k, r, d, f)) return;
    }
    s.pbw[pos] = d.src;
    s.pbw[pos + 1] = d.ssn;
    s.pbw[pos + 2] = k;
    s.pbw[pos + 3] = r;
    // Stability vector: the holders known to keep it across their own recovery travel with it.
    if (sv) s.pbw[pos + 4] = d.hold | (1 << k);
    pos += dw;
    c++;
  };
  const q = s.cdQ;
  if (fromSeq >= 0) for (let i = fromSeq - s.cdQBase; i < q.length; i++) put(q[i]!);
  else {
    for (let k = 0; k < n; k++) {
      if (k === to) continue;
      // put() leaves out every rsn at or below these (k's checkpoint covers it, k's stable log holds
      // it, or, with the matrix, `to` depends on it): during replay every send walks the whole log, so
      // it starts past them.
      let from = Math.max(s.cdGc[k]!, s.cdFlushed[k]!);
      if (tracking) from = Math.max(from, s.cdDm[to * n + k]!);
      // Its own deliveries after this one have not happened yet in the execution being replayed: the
      // message as first sent could not carry their determinants, which the gather round put in the
      // log ahead of the replay (without this bound every replayed message carried about half of them).
      s.cdDets[k]!.forEachFrom(from + 1, put, k === s.host.rank ? s.rsn : Infinity);
    }
  }
  if (live) s.cdQTold[to] = s.cdQBase + q.length;
  s.pbw[countAt] = c;
  const readsAt = pos++;
  let rc = 0;
  for (let k = 0; k < n; k++) {
    if (k === to) continue;
    for (const d of s.cdReads[k]!.values()) {
      if (tracking && s.cdDm[to * n + k]! > d.r) continue; // it depends on k after that step: it holds it
      if ((d.push & (1 << to)) !== 0) continue;
      pos = causalPutRead(s.pbw, pos, k, d);
      rc++;
    }
  }
  s.pbw[readsAt] = rc;
  ev.pbLen = pos;
}

/**
 * Put the dependency matrix for `to` at `pos` of the piggyback: the rows with entries that grew since
 * the last message to `to`, as [row count] [row, column bitmask, the masked entries in column order]
 * × count; or, when that is no shorter, [CAUSAL_DM_FULL] and the whole matrix. The destination
 * delivers this incarnation's messages in ssn order exactly once, so it has every entry left out.
 * Not `live` (replay): nothing is recorded as told. Returns the position after it.
 */
function dmPut(s: K, to: number, pos: number, live: boolean): number {
  const n = s.host.size;
  const dm = s.cdDm;
  const told = s.cdDmTold;
  const base = to * n * n;
  const w = s.pbw;
  const at = pos++;
  let rows = 0;
  for (let j = 0; j < n; j++) {
    const row = j * n;
    let mask = 0;
    const head = pos;
    pos += 2;
    for (let k = 0; k < n; k++) {
      const v = dm[row + k]!;
      if (v > told[base + row + k]!) {
        mask |= 1 << k;
        w[pos++] = v;
      }
    }
    if (mask === 0) pos = head;
    else {
      w[head] = j;
      w[head + 1] = mask;
      rows++;
    }
  }
  if (pos - at - 1 >= n * n) {
    w[at] = CAUSAL_DM_FULL;
    w.set(dm, at + 1);
    pos = at + 1 + n * n;
  } else w[at] = rows;
  if (live) told.set(dm, base);
  return pos;
}

export async function onDeliver(s: K, ev: DeliverEv): Promise<void> {
  const tracking = param<string>("causal.tracking") === "dependency-matrix";
  const sv = param<string>("causal.tracking") === "stability-vector";
  const smx = param<string>("causal.tracking") === "stability-matrix";
  const n = s.host.size;
  const me = s.host.rank;
  const m = ev.msg;
  const pb = m.pb;
  let pos = ev.pbPos;
  if (tracking) {
    // The rows that grew since the sender's previous message here (dmPut). The sender's own row is
    // also kept apart (cdDmHeard): cdDm's may be higher, from third processes. The sender knows
    // every value it sent: none goes back to it (cdDmTold), except in this process's own row, which
    // it must get from this process alone (its cdDmHeard). Not while replaying: nothing is told then.
    const dm = s.cdDm;
    const heard = s.cdDmHeard;
    const hb = m.from * n;
    const told = s.cdDmTold;
    const tb = s.host.incarnation === 0 || s.mode === MODE_LIVE ? m.from * n * n : -1;
    const mine = me * n;
    const rows = pb[pos++]!;
    if (rows === CAUSAL_DM_FULL) {
      for (let i = 0; i < n * n; i++) {
        const v = pb[pos + i]!;
        if (v > dm[i]!) dm[i] = v;
        if (tb >= 0 && (i < mine || i >= mine + n) && v > told[tb + i]!) told[tb + i] = v;
      }
      for (let k = 0; k < n; k++) if (pb[pos + hb + k]! > heard[hb + k]!) heard[hb + k] = pb[pos + hb + k]!;
      pos += n * n;
    } else {
      for (let i = 0; i < rows; i++) {
        const row = pb[pos]! * n;
        const mask = pb[pos + 1]!;
        pos += 2;
        for (let k = 0; k < n; k++) {
          if ((mask & (1 << k)) !== 0) {
            const v = pb[pos++]!;
            if (v > dm[row + k]!) dm[row + k] = v;
            if (row === hb && v > heard[hb + k]!) heard[hb + k] = v;
            if (tb >= 0 && row !== mine && v > told[tb + row + k]!) told[tb + row + k] = v;
          }
        }
      }
    }
    // Delivering m makes this process depend on everything its sender depended on.
    for (let k = 0; k < n; k++) {
      const v = heard[hb + k]!;
      if (v > dm[me * n + k]!) dm[me * n + k] = v;
    }
  }
  if (sv) {
    // Stable prefixes the sender knows of: stable once, stable for good (holders regain them on recovery).
    for (let k = 0; k < n; k++) if (pb[pos + k]! > s.cdSv[k]!) s.cdSv[k] = pb[pos + k]!;
    pos += n;
  }
  if (smx) {
    // Other processes' rows as the sender knows them. Not our own row: only what this process
    // holds or knows stable goes in it (causalSmAdvance below), whatever a peer heard earlier.
    const sc = pb[pos++]!;
    if (sc === CAUSAL_SM_FULL) {
      for (let at = 0; at < n * n; at++) if (pb[pos + at]! > s.cdSm[at]! && ((at / n) | 0) !== me) s.cdSm[at] = pb[pos + at]!;
      pos += n * n;
    } else {
      for (let i = 0; i < sc; i++, pos += 2) {
        const at = pb[pos]!;
        if (pb[pos + 1]! > s.cdSm[at]! && ((at / n) | 0) !== me) s.cdSm[at] = pb[pos + 1]!;
      }
    }
  }
  const c = pb[pos++]!;
  let conflict: string | null = null;
  const dw = sv ? 5 : 4;
  for (let i = 0; i < c; i++, pos += dw) {
    const k = pb[pos + 2]!;
    const r = pb[pos + 3]!;
    // Held here from now on, and regained by replaying this delivery after a crash.
    conflict ??= causalAdd(s, k, r, pb[pos]!, pb[pos + 1]!, (sv ? pb[pos + 4]! : 0) | (1 << me));
    // (Not with the stability matrix, whose holder count reads rows as contiguous holdings.)
    if (!smx && r > s.cdDm[me * n + k]!) s.cdDm[me * n + k] = r;
  }
  const rc = pb[pos++]!;
  for (let i = 0; i < rc; i++) {
    conflict ??= causalAddRead(s, pb[pos]!, pb[pos + 1]!, pb[pos + 2]!, causalReadValue(pb, pos));
    pos += 4 + ((pb[pos + 3]! + 3) >>> 2);
  }
  ev.pbPos = pos;
  // Determinant.CreateDeterminant: this delivery's own determinant.
  conflict ??= causalAdd(s, me, ev.rsn, m.from, m.ssn, 1 << me);
  if (!smx) s.cdDm[me * n + me] = ev.rsn;
  if (sv) for (let k = 0; k < n; k++) causalSvAdvance(s, k, s.host.f);
  if (smx) for (let k = 0; k < n; k++) causalSmAdvance(s, k, s.host.f);
  if (conflict !== null) s.host.unrecoverable(`rank ${me}: ${conflict}`);
}

/**
 * A read: during recovery the gathered value, else produce it; either way it becomes a determinant of this
 * process. At once when the value is at hand; a promise while a recovery's gather round is still out (an
 * onStart re-run before it) or when `produce` returns one.
 */
export function onRead(s: K, ev: ReadEv): void {
  // A `read:` statement logs them synchronously instead (log/read-log): durable before anything depends on them.
  if (!param<boolean>("causal.readLog")) {
    const me = s.host.rank;
    // Position is taken synchronously, so concurrent reads of one step get distinct indexes in call order.
    if (s.rsn !== s.cdRdStep) {
      s.cdRdStep = s.rsn;
      s.cdRdIdx = 0;
    }
    const r = s.cdRdStep;
    const idx = s.cdRdIdx++;
    const recovering = s.host.incarnation > 0 && s.mode !== MODE_LIVE;
    if (recovering && s.gaRound === null) {
      // onStart re-runs inside checkpoint/restore (no checkpoint: nothing to restore, so the causal
      // control frames can be served now): gather before the first read instead of after restore.
      s.cdReady = true;
      const deferred = s.cdDeferred;
      s.cdDeferred = [];
      for (const d of deferred) s.onControl(d);
      causalGatherStart(s, s.rsn + s.planSrc.length);
    }
    const choose = (): Uint8Array | Promise<Uint8Array> => {
      let v: Uint8Array | null = null;
      if (recovering) {
        if (s.gaConflict !== null) s.host.unrecoverable(s.gaConflict);
        const key = `${r}.${idx}`;
        const got = s.gaReads.get(key);
        if (got !== undefined && r >= s.cdReadFrom) {
          s.gaReads.delete(key);
          v = got;
        }
        // Asynchronous read log (log/read-log, after this block, appends what it did not log): a value
        // some process holds wins over the log, whose record of this (rsn, idx) may be a stale one of a
        // step the crash lost (re-executed since, its new record not flushed); a flushed value nobody
        // holds comes from the log.
        if (param<boolean>("causal.readFlush")) v ??= (s as unknown as ReadLogView).rdReplay.get(key) ?? null;
      }
      return v ?? ev.produce();
    };
    const add = (v: Uint8Array): Uint8Array => {
      const conflict = causalAddRead(s, me, r, idx, v);
      if (conflict !== null) s.host.unrecoverable(`rank ${me}: ${conflict}`);
      return v;
    };
    // The round is over once its resolver is cleared (causal/gather): its answers are in.
    const v = recovering && s.gaDone !== null ? s.gaRound!.then(choose) : choose();
    ev.value = v instanceof Uint8Array ? add(v) : v.then(add);
  }
}

export async function onLive(s: K, ev: StartEv): Promise<void> {
  // Replay re-ran every gathered step; a read value some process holds that nobody asked for again
  // means the replay diverged (more than f failures, or an app that is not piecewise deterministic).
  if (ev.incarnation > 0 && s.gaReads.size > 0) {
    s.host.unrecoverable(`rank ${s.host.rank}: replay diverged: ${s.gaReads.size} read value(s) held by peers were not read again (first: step.idx ${[...s.gaReads.keys()][0]})`);
  }
}

export function onControl(s: K, ev: ControlEv): void {
  const t = ev.tag;
  const mine = t === TAG_CAUSAL_GATHER || t === TAG_CAUSAL_DETS || t === TAG_CAUSAL_PUSH || t === TAG_CAUSAL_ACK || t === TAG_CAUSAL_STABLE || t === TAG_CAUSAL_FLUSH;
  if (mine && !s.cdReady) {
    // Before the checkpoint is restored, answers and acknowledgements would describe a state about to be replaced.
    s.cdDeferred.push({ from: ev.from, fromIncarnation: ev.fromIncarnation, tag: ev.tag, words: ev.words.slice(), payload: ev.payload });
  } else if (t === TAG_CAUSAL_STABLE) {
    // words = [checkpoint rsn, flushed rsn, reads flushed] of the sender.
    causalGc(s, ev.from, ev.words[0]!);
    if (ev.words[1]! > s.cdFlushed[ev.from]!) s.cdFlushed[ev.from] = ev.words[1]!;
    // The read watermark is its incarnation's (reset on a restart): an older incarnation's is void.
    if (ev.fromIncarnation >= s.cdPeerInc[ev.from]!) causalReadsFlushed(s, ev.from, ev.words[2]!);
  }
}

export function onPeerIncarnation(s: K, ev: PeerIncarnationEv): void {
  if (ev.incarnation > s.cdPeerInc[ev.rank]!) s.cdPeerInc[ev.rank] = ev.incarnation;
  // Asynchronous read log: a step of the crashed incarnation past the end of its recovery (nobody held
  // its receive determinant) is re-executed with reads whose new records are not flushed yet, while
  // the old watermark covers them: the new incarnation announces its own.
  s.cdRdFlushed[ev.rank] = 0;
  // It lost what it was told (its recovery regains only what its checkpoint and replay give back),
  // and determinants left off to others for its push acknowledgements may be needed again.
  const n = s.host.size;
  s.cdQTold.fill(-1);
  if (s.cdDmTold.length > 0) s.cdDmTold.fill(0, ev.rank * n * n, (ev.rank + 1) * n * n);
  // Its volatile copies are gone: it no longer holds what it acknowledged.
  const bit = 1 << ev.rank;
  for (const m of s.cdDets) for (const d of m.values()) d.push &= ~bit;
  for (const m of s.cdReads) for (const d of m.values()) d.push &= ~bit;
  // It lost what we told it about our checkpoints and flushes.
  const w = new Uint32Array([s.cdGc[s.host.rank]!, s.cdFlushed[s.host.rank]!, s.cdRdFlushed[s.host.rank]!]);
  s.host.transport.send(ev.rank, { kind: KIND_CONTROL as FrameKind, tag: TAG_CAUSAL_STABLE, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
}

export function onFlushTimer(s: K, _ev: TimerEv): void {
  // Own reads log/read-log has synced since the last tick stop travelling (and are announced).
  if (param<boolean>("causal.readFlush")) causalReadsFlushed(s, s.host.rank, (s as unknown as ReadLogView).rdFlushed);
  causalAnnounce(s);
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  // [k, r, src, ssn, hold] per determinant, in one typed array: the state codec copies it whole. A
  // number[] built by push cost 16–37 ms per checkpoint of 12–20 k determinants on jacobi (family-based
  // causal's first checkpoint holds every determinant since the start), and the codec then wrote each number.
  let held = 0;
  for (const t of s.cdDets) held += t.size;
  const flat = new Uint32Array(5 * held);
  let at = 0;
  const put = (d: CDet): void => {
    flat[at] = d.k;
    flat[at + 1] = d.r;
    flat[at + 2] = d.src;
    flat[at + 3] = d.ssn;
    flat[at + 4] = d.hold;
    at += 5;
  };
  for (const t of s.cdDets) t.forEachFrom(0, put);
  ev.state["causal.dets"] = flat;
  const reads: [number, number, number, Uint8Array][] = [];
  for (let k = 0; k < s.host.size; k++) for (const d of s.cdReads[k]!.values()) reads.push([k, d.r, d.idx, d.value]);
  ev.state["causal.reads"] = reads;
  ev.state["causal.dm"] = s.cdDm.slice();
  ev.state["causal.dmHeard"] = s.cdDmHeard.slice();
  ev.state["causal.sv"] = s.cdSv.slice();
  ev.state["causal.sm"] = s.cdSm.slice();
  ev.state["causal.gc"] = s.cdGc.slice();
  ev.state["causal.flushed"] = s.cdFlushed.slice();
}

export async function onCheckpointDurable(s: K, ev: CheckpointEv): Promise<void> {
  // Own determinants up to the checkpoint will never be replayed again: everyone may drop them.
  causalGc(s, s.host.rank, ev.rsn);
}

export function onRestore(s: K, ev: RestoreEv): void {
  const n = s.host.size;
  s.cdDets = [];
  for (let i = 0; i < n; i++) s.cdDets.push(new DetTable());
  // A Uint32Array (a number[] in a checkpoint written before it was one: read alike).
  const flat = ev.state["causal.dets"] as ArrayLike<number>;
  for (let i = 0; i < flat.length; i += 5) {
    const d = { k: flat[i]!, r: flat[i + 1]!, src: flat[i + 2]!, ssn: flat[i + 3]!, push: 0, hold: flat[i + 4]! };
    s.cdDets[d.k]!.set(d.r, d);
  }
  // What the pre-crash incarnation sent each peer is unknown here: the next sends walk the whole log.
  s.cdQ = [];
  s.cdQBase = 0;
  s.cdQTold.fill(-1);
  s.cdQCommit = -1;
  s.cdDmTold.fill(0);
  s.cdReads = [];
  for (let i = 0; i < n; i++) s.cdReads.push(new Map());
  for (const [k, r, idx, value] of ev.state["causal.reads"] as [number, number, number, Uint8Array][]) s.cdReads[k]!.set(`${r}.${idx}`, { r, idx, value, push: 0 });
  // Steps up to the checkpoint's rsn (and their reads) are inside it.
  s.cdReadFrom = (ev.state["core.rsn"] as number) + 1;
  s.cdDm = (ev.state["causal.dm"] as Uint32Array).slice();
  // (Absent from an older checkpoint: knowing less of a sender's row only makes this process send more.)
  const heard = ev.state["causal.dmHeard"] as Uint32Array | undefined;
  s.cdDmHeard = heard !== undefined ? heard.slice() : new Uint32Array(n * n);
  s.cdSv = (ev.state["causal.sv"] as Uint32Array).slice();
  s.cdSm = (ev.state["causal.sm"] as Uint32Array).slice();
  // What the pre-crash incarnation told each peer is unknown here: tell everything again.
  s.cdSmTold.fill(0);
  s.cdGc = (ev.state["causal.gc"] as Uint32Array).slice();
  const fl = ev.state["causal.flushed"] as Uint32Array;
  for (let k = 0; k < n; k++) if (fl[k]! > s.cdFlushed[k]!) s.cdFlushed[k] = fl[k]!;
  s.cdSaid = new Uint32Array([s.cdGc[s.host.rank]!, 0, 0]);
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Causal logging: volatile determinant log; piggyback the determinants not yet stable, with optional tracking.",
  implements: [{ module: "PiggybackLogging" }, { variable: "pb-value", value: "determinants" }, { variable: "pb-tracking", value: "dependency-matrix" }, { variable: "pb-tracking", value: "stability-vector" }, { variable: "pb-tracking", value: "stability-matrix" }, { variable: "event-info", value: "determinant" }],
  params: { "causal.tracking": "string", "causal.readLog": "boolean", "causal.readFlush": "boolean" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["causal/stable-dets.ts", "checkpoint/restore.ts"] },
    // stores are opened and read back before onStart may replay
    onOpen: { after: ["causal/stable-dets.ts", "checkpoint/restore.ts"] },
    // piggyback words are appended in chain order; core/ssn first, core/transmit (or log/send-log) last
    onSend: { after: ["core/ssn.ts"], before: ["core/transmit.ts"] },
    // forced checkpoints and determinant records before core/deliver hands the message over
    onDeliver: { after: ["causal/stable-dets.ts"] },
    // logged or replayed value before core/read produces one
    onRead: { before: ["core/read.ts"] },
    // logs and trackers go live before the timers start and core/recovery switches to live mode
    onLive: { after: ["core/timers.ts"] },
    // filters and stability claims before the blocks that act on them
    onControl: { after: ["core/retransmit.ts"] },
    // syncs before the blocks that announce what they made stable
    onFlushTimer: { after: ["causal/stable-dets.ts", "core/retransmit.ts"] },
    // every block adds its state before the store writes it (last)
    onCheckpoint: { after: ["causal/stable-dets.ts", "core/output-seq.ts"] },
    // GC after the checkpoint is durable, in chain order
    onCheckpointDurable: { after: ["causal/stable-dets.ts", "core/retransmit.ts"] },
    // state comes back in the order it was added
    onRestore: { after: ["core/output-seq.ts"] },
  },
  owns: {
    tags: ["TAG_CAUSAL_STABLE"],
    wire: ["piggyback after the ssn (and checkpoint index): the unstable determinants, with the tracking's words"],
    state: ["causal.dets", "causal.reads", "causal.dm", "causal.dmHeard", "causal.sv", "causal.sm", "causal.gc", "causal.flushed"],
  },
  // the blocks whose fields its K reads (GatherState is causal/gather's)
  requires: ["causal/gather.ts", "core/pump.ts", "core/receive.ts", "core/ssn.ts"],
};
