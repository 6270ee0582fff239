/**
 * Causal logging's determinant tables and the stability rules over them, for
 * generated protocols (blocks causal/det-log, causal/gather and causal/commit
 * import them from `@egida/runtime-core/protocol-lib`; the rest of causal
 * logging, the helpers that frame control messages, stays in the block
 * library's causal/stability.ts). Nothing here reads a protocol parameter:
 * what a caller decides by a parameter it passes as an argument (`f`, the
 * tracking flags of causalScanPb).
 *
 * Holder knowledge for a determinant #(k, r) (Alvisi–Marzullo family-based
 * logging, with the dependency matrix of their "tracking causality" scheme):
 * - k itself holds its own determinants (it created them; its recovery
 *   regains every one a survivor depends on);
 * - this process holds everything in its volatile log;
 * - every j with DM[j][k] >= r depends on event (k, r), so holds #(k, r) or
 *   it was already stable when j came to depend on it (FBL invariant: a
 *   determinant is omitted from a piggyback only when the receiver is known
 *   to depend on it or it is stable);
 * - output-commit pushes acknowledged by j (bit j of `push`);
 * - hybrid: it is on k's stable log (k's flushed rsn is known here);
 * - with `stability matrix`, every j with SM[j][k] >= r: j holds (in a way
 *   its recovery regains) or knows stable every determinant of k up to that
 *   rsn (causalSmAdvance).
 * Stable = held by f + 1 processes (or on stable storage): no longer piggybacked.
 */

type K = CausalLog;

/** Stability matrix piggyback (causal/det-log): this count word says the whole n × n matrix follows instead of [index, value] pairs. */
export const CAUSAL_SM_FULL = 0xffffffff;

/** Dependency matrix piggyback (causal/det-log): this count word says the whole n × n matrix follows instead of changed rows. */
export const CAUSAL_DM_FULL = 0xffffffff;

/**
 * The send queue (causal/det-log cdQ): a trim is tried whenever its length reaches a multiple of
 * this. A destination more than half of it behind is sent from the whole log at its next send
 * instead (it is rarely sent to); the output commit's cursor (cdQCommit) likewise once it is behind
 * by more than the log holds. So a trim costs O(1) per determinant amortized.
 */
const CDQ_TRIM = 1024;

/** One entry of the volatile determinant log, keyed by (dest, rsn): #m = <src, ssn, dest, rsn>. */
export interface CDet {
  /** The process whose delivery this is (dest) and its rsn: the log's keys, kept for the send queue. */
  readonly k: number;
  readonly r: number;
  readonly src: number;
  readonly ssn: number;
  /** Bitmask of processes that acknowledged an output-commit push of it (volatile, cleared on their restart). */
  push: number;
  /**
   * Bitmask of processes known to hold it in a way their recovery regains: its owner, and every
   * process that got it piggybacked on a delivery (replay re-merges it). With `stability vector`
   * it travels with the determinant; otherwise it only records this process's own holding.
   */
  hold: number;
}

/**
 * The determinants of one process k this process holds, by k's delivery
 * number (rsn): what a `Map<number, CDet>` offered (get, set, size,
 * iteration), as one array from the lowest rsn held, with a hole for each
 * delivery of k not held here. Why: every delivery adds one and every
 * piggyback and push looks them up, and on the stream workload the Map's
 * hashing and rehashing was the largest single cost of family-based causal
 * logging (~1.2 s of a job's CPU in causalAdd). Delivery numbers are
 * consecutive from k's checkpoint (`dropUpTo` drops what it covers), so the
 * holes cost a slot per delivery of k since then, never more.
 * Iteration is in rsn order.
 */
export class DetTable {
  /** Entry i is rsn `base + i` (undefined: not held). */
  private a: (CDet | undefined)[] = [];
  private base = 0;
  /** Determinants held. */
  size = 0;

  get(r: number): CDet | undefined {
    const i = r - this.base;
    return i >= 0 && i < this.a.length ? this.a[i] : undefined;
  }

  set(r: number, d: CDet): void {
    if (this.size === 0) {
      this.a.length = 0;
      this.base = r;
    }
    let i = r - this.base;
    if (i < 0) {
      // Below every rsn held (learnt out of order): prepend the gap.
      const gap = new Array<CDet | undefined>(-i).fill(undefined);
      this.a = gap.concat(this.a);
      this.base = r;
      i = 0;
    }
    const a = this.a;
    // Filled one by one, never by assigning past the end: the array stays packed (fast elements).
    while (a.length < i) a.push(undefined);
    if (i === a.length) {
      a.push(d);
      this.size++;
    } else {
      if (a[i] === undefined) this.size++;
      a[i] = d;
    }
  }

  /** Drops every determinant with rsn ≤ `upto` (k's durable checkpoint covers them). */
  dropUpTo(upto: number): void {
    const n = Math.min(this.a.length, upto - this.base + 1);
    if (n <= 0) return;
    for (let i = 0; i < n; i++) if (this.a[i] !== undefined) this.size--;
    this.a.splice(0, n);
    this.base += n;
  }

  *values(): IterableIterator<CDet> {
    for (const d of this.a) if (d !== undefined) yield d;
  }

  /**
   * Calls `fn` on every determinant with `from` ≤ rsn ≤ `upTo`, in rsn order:
   * a walk that would skip a prefix (or a suffix) starts past it (a loop, not
   * a generator: the whole-log walks of a send during replay and of an output
   * commit run it once per determinant held).
   */
  forEachFrom(from: number, fn: (d: CDet) => void, upTo = Infinity): void {
    const a = this.a;
    const end = Math.min(a.length, upTo - this.base + 1);
    for (let i = Math.max(0, from - this.base); i < end; i++) {
      const d = a[i];
      if (d !== undefined) fn(d);
    }
  }

  *[Symbol.iterator](): IterableIterator<[number, CDet]> {
    const a = this.a;
    for (let i = 0; i < a.length; i++) {
      const d = a[i];
      if (d !== undefined) yield [this.base + i, d];
    }
  }
}

/**
 * A read determinant of process k: the value its `idx`-th `ctx.read` of step
 * `r` returned (r = the delivery it ran in, 0 = onStart). Keyed `${r}.${idx}`.
 * A process that depends on k's state after step r (DM[j][k] >= r + 1: k sent
 * it something, directly or transitively, after the step ended) holds it, as
 * for receive determinants.
 */
export interface CRead {
  readonly r: number;
  readonly idx: number;
  readonly value: Uint8Array;
  /** As CDet.push. */
  push: number;
}

/**
 * The determinant log's tables, as causal/det-log declares them (its
 * `DetLogState` extends this; the helpers below read and write them).
 */
export interface DetLogTables {
  /** Volatile determinant log: per dest k, rsn → determinant. */
  cdDets: DetTable[];
  /** The determinants in the order this process learnt them; entry i has sequence number cdQBase + i. */
  cdQ: CDet[];
  cdQBase: number;
  /** Per destination: the determinants with sequence numbers below this were put on, or left off for good, a message to it (small integers: see causal/det-log's init). */
  cdQTold: number[];
  /**
   * causal/commit's cursor: the determinants with sequence numbers below it were examined by an
   * output commit and are stable, or in causal/commit's list of unstable ones (-1: the next commit
   * examines the whole log: before the first output, after a restore or a peer's restart, or once
   * it is behind by more than the log holds).
   */
  cdQCommit: number;
  /** Volatile read determinants: per k, `${rsn}.${idx}` → value. */
  cdReads: Map<string, CRead>[];
  /** Dependency matrix, n×n row-major (own row: what this process depends on). */
  cdDm: Uint32Array;
  /** Stability vector (stability-vector tracking; else 0). */
  cdSv: Uint32Array;
  /** Stability matrix, n×n row-major (stability-matrix tracking; else 0). */
  cdSm: Uint32Array;
  /** Per k: rsn covered by k's latest durable checkpoint (dets at or below are dropped). */
  cdGc: Uint32Array;
  /** Per k: rsn up to which k's determinants are on its stable log (hybrid). */
  cdFlushed: Uint32Array;
  /** Asynchronous read log: per k, k's reads of every step before this are on k's stable read log. */
  cdRdFlushed: Uint32Array;
}

/** What the helpers see of a causal protocol's state: the tables and the rank's place in the job. */
export interface CausalLog extends DetLogTables {
  readonly host: { readonly rank: number; readonly size: number };
}

/** Is #(k, r) stable as far as this process knows (held by f + 1 processes, or on stable storage)? */
export function causalStable(s: K, k: number, r: number, d: CDet, f: number): boolean {
  if (s.cdFlushed[k]! >= r || s.cdSv[k]! >= r) return true;
  return holders(s, k, r, d.push | d.hold | (1 << k) | (1 << s.host.rank)) >= f + 1;
}

/**
 * How many processes hold #(k, r): those in `bits`, those the dependency matrix says delivered past
 * it, and those the stability matrix says hold or know stable k's prefix past it (a process that
 * knows it stable is not a holder, but then f + 1 holders exist anyway). The matrix not in use is zero.
 */
function holders(s: K, k: number, r: number, bits: number): number {
  const n = s.host.size;
  for (let j = 0; j < n; j++) if (s.cdDm[j * n + k]! >= r || s.cdSm[j * n + k]! >= r) bits |= 1 << j;
  let c = 0;
  while (bits !== 0) {
    bits &= bits - 1;
    c++;
  }
  return c;
}

/**
 * Add #(k, r) = <src, ssn> to the volatile log (unless a checkpoint of k
 * covers it). Returns a reason when the log already holds a different
 * determinant for that event: some process saw a history recovery could not
 * reproduce (a lost determinant was re-executed differently: more than f
 * concurrent failures). Callers stop with host.unrecoverable, never continue.
 */
export function causalAdd(s: K, k: number, r: number, src: number, ssn: number, hold: number): string | null {
  if (r <= s.cdGc[k]!) return null;
  const had = s.cdDets[k]!.get(r);
  if (had === undefined) {
    const d = { k, r, src, ssn, push: 0, hold };
    s.cdDets[k]!.set(r, d);
    s.cdQ.push(d);
    // At every multiple of CDQ_TRIM (a trim that could drop nothing is not retried on every add).
    if ((s.cdQ.length & (CDQ_TRIM - 1)) === 0) causalQTrim(s);
  } else if (had.src !== src || had.ssn !== ssn) {
    return `conflicting determinants for delivery ${r} of rank ${k}: <${had.src}, ${had.ssn}> and <${src}, ${ssn}> (more than f concurrent failures)`;
  } else had.hold |= hold;
  return null;
}

/**
 * Drop the send queue's prefix every destination has passed; a destination more than half of the
 * queue behind is reset (-1: its next send walks the whole log) so that the prefix can go.
 */
export function causalQTrim(s: K): void {
  const q = s.cdQ;
  const end = s.cdQBase + q.length;
  let min = end;
  for (let j = 0; j < s.host.size; j++) {
    const t = s.cdQTold[j]!;
    if (j === s.host.rank || t < 0) continue;
    if (end - t > q.length / 2) s.cdQTold[j] = -1;
    else if (t < min) min = t;
  }
  // The output commit reads the queue too (what was learnt since its last scan). Once that is more
  // than the log holds, its next scan reads the log instead (no longer than the queue it lets go).
  const c = s.cdQCommit;
  if (c >= 0) {
    let held = 0;
    for (const m of s.cdDets) held += m.size;
    if (end - c > CDQ_TRIM && end - c > held) s.cdQCommit = -1;
    else if (c < min) min = c;
  }
  q.splice(0, min - s.cdQBase);
  s.cdQBase = min;
}

/**
 * Stability vector: raise cdSv[k] over k's determinants in this log that are stable, in rsn
 * order from the last known stable prefix (or k's checkpoint). A determinant missing here ends
 * the prefix: nothing is known about it.
 */
export function causalSvAdvance(s: K, k: number, f: number): void {
  let r = s.cdSv[k]! > s.cdGc[k]! ? s.cdSv[k]! : s.cdGc[k]!;
  const log = s.cdDets[k]!;
  for (let d = log.get(r + 1); d !== undefined && causalDurable(s, k, r + 1, d, f); d = log.get(r + 1)) r++;
  if (r > s.cdSv[k]!) s.cdSv[k] = r;
}

/**
 * Stable for good: f + 1 holders that regain it when they recover (owner, delivery holders, the
 * dependency matrix's), or flushed. Push acknowledgements do not count: an acknowledger that
 * restarts has lost its copy, and a stable prefix, once piggybacked, cannot be taken back.
 */
function causalDurable(s: K, k: number, r: number, d: CDet, f: number): boolean {
  if (s.cdFlushed[k]! >= r) return true;
  return holders(s, k, r, d.hold | (1 << k)) >= f + 1;
}

/**
 * Stability matrix: #(k, r) is stable for good as far as this process knows. Holders that regain it
 * on recovery: k, this process if it got it on a delivery (hold bit), and every row of SM at or
 * past r; or it is flushed. Push acknowledgements do not count (as causalDurable): the matrix rows
 * built on this are piggybacked and never taken back.
 */
export function causalSmStable(s: K, k: number, r: number, d: CDet, f: number): boolean {
  if (s.cdFlushed[k]! >= r) return true;
  return holders(s, k, r, d.hold | (1 << k)) >= f + 1;
}

/**
 * Stability matrix: raise this process's own row SM[me][k] over the contiguous run of k's
 * determinants it holds (a delivery put it here: hold bit) or knows stable for good, from the
 * row's current end or k's checkpoint (nobody needs what that covers). A determinant missing here
 * counts only if f + 1 rows already cover it (they prove it exists); else the row stops: a row
 * must never cover a determinant that does not exist yet.
 */
export function causalSmAdvance(s: K, k: number, f: number): void {
  const n = s.host.size;
  const at = s.host.rank * n + k;
  let r = s.cdSm[at]! > s.cdGc[k]! ? s.cdSm[at]! : s.cdGc[k]!;
  const log = s.cdDets[k]!;
  const mine = 1 << s.host.rank;
  for (;;) {
    const d = log.get(r + 1);
    if (d !== undefined ? (d.hold & mine) !== 0 || causalSmStable(s, k, r + 1, d, f) : s.cdFlushed[k]! >= r + 1 || holders(s, k, r + 1, 0) >= f + 1) r++;
    else break;
  }
  if (r > s.cdSm[at]!) s.cdSm[at] = r;
}

/** Drop the determinants of k that k's durable checkpoint covers (GarbageCollect); checkpoints are taken between steps, so reads of step `upto` too. */
export function causalGc(s: K, k: number, upto: number): void {
  if (upto > s.cdGc[k]!) {
    s.cdGc[k] = upto;
    s.cdDets[k]!.dropUpTo(upto);
    // (Entries of the send queue cdQ stay until trimmed: its walk skips what cdGc covers.)
    for (const [key, d] of [...s.cdReads[k]!]) if (d.r <= upto) s.cdReads[k]!.delete(key);
  }
}

/**
 * Asynchronous read log: k's reads of every step before `upto` are on k's stable log (its current
 * incarnation's watermark): stable, no longer piggybacked, pushed or kept here (k's recovery reads
 * them from its log).
 */
export function causalReadsFlushed(s: K, k: number, upto: number): void {
  if (upto > s.cdRdFlushed[k]!) {
    s.cdRdFlushed[k] = upto;
    for (const [key, d] of [...s.cdReads[k]!]) if (d.r < upto) s.cdReads[k]!.delete(key);
  }
}

/** Is read determinant (k, r) held by f + 1 processes as far as this one knows (output commit)? Holders: k, this, j with DM[j][k] > r, push acks; or on k's read log. */
export function causalReadStable(s: K, k: number, r: number, push: number, f: number): boolean {
  if (r < s.cdRdFlushed[k]!) return true;
  const n = s.host.size;
  let bits = push | (1 << k) | (1 << s.host.rank);
  for (let j = 0; j < n; j++) if (s.cdDm[j * n + k]! > r) bits |= 1 << j;
  let c = 0;
  while (bits !== 0) {
    bits &= bits - 1;
    c++;
  }
  return c >= f + 1;
}

/** Add read determinant (k, r, idx) = value (unless k's checkpoint covers it). Returns a reason on a conflicting value (as causalAdd). */
export function causalAddRead(s: K, k: number, r: number, idx: number, value: Uint8Array): string | null {
  if ((r <= s.cdGc[k]! && s.cdGc[k]! > 0) || r < s.cdRdFlushed[k]!) return null;
  const key = `${r}.${idx}`;
  const had = s.cdReads[k]!.get(key);
  if (had === undefined) s.cdReads[k]!.set(key, { r, idx, value, push: 0 });
  else if (!causalSameBytes(had.value, value)) {
    return `conflicting values for read ${idx} of step ${r} of rank ${k} (more than f concurrent failures)`;
  }
  return null;
}

export function causalSameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Words a read determinant takes on the wire: [k, r, idx, byteLength, value padded to words]. */
export function causalReadWords(d: CRead): number {
  return 4 + ((d.value.length + 3) >>> 2);
}

/** Write read determinant (k, d) at `pos` of `w`; returns the position after it. */
export function causalPutRead(w: Uint32Array, pos: number, k: number, d: CRead): number {
  w[pos] = k;
  w[pos + 1] = d.r;
  w[pos + 2] = d.idx;
  w[pos + 3] = d.value.length;
  const nw = (d.value.length + 3) >>> 2;
  const pad = new Uint8Array(nw * 4);
  pad.set(d.value);
  w.set(new Uint32Array(pad.buffer), pos + 4);
  return pos + 4 + nw;
}

/** The value bytes of the read determinant at `pos` of `w` (a copy). */
export function causalReadValue(w: Uint32Array, pos: number): Uint8Array {
  const len = w[pos + 3]!;
  const nw = (len + 3) >>> 2;
  return new Uint8Array(w.slice(pos + 4, pos + 4 + nw).buffer, 0, len);
}

/**
 * Scan a received piggyback (from word `at`: after the ssn, and after the checkpoint index when one
 * is piggybacked) for determinants
 * of rank `k` and for the sender's dependency on k (DM[from][k]); used to
 * answer a recovering k's request from messages not delivered yet.
 * Returns the highest rsn of k the message depends on; adds its dets of k to
 * `out` and its read determinants of k to `reads`.
 */
export function causalScanPb(pb: Uint32Array, at: number, from: number, k: number, n: number, tracking: boolean, sv: boolean, smx: boolean, out: Map<number, number[]>, reads: Map<string, CRead>): number {
  let pos = at;
  let dep = 0;
  if (tracking) {
    // The sender's row entry for k, if this message carries it; if not, it told the receiver an
    // equal value on an earlier message, so the receiver already depends on it (its own DM row).
    const rows = pb[pos++]!;
    if (rows === CAUSAL_DM_FULL) {
      dep = pb[pos + from * n + k]!;
      pos += n * n;
    } else {
      for (let i = 0; i < rows; i++) {
        const j = pb[pos]!;
        const mask = pb[pos + 1]!;
        pos += 2;
        for (let c = 0; c < n; c++) {
          if ((mask & (1 << c)) !== 0) {
            if (j === from && c === k) dep = pb[pos]!;
            pos++;
          }
        }
      }
    }
  }
  if (sv) pos += n;
  if (smx) pos += pb[pos] === CAUSAL_SM_FULL ? 1 + n * n : 1 + 2 * pb[pos]!;
  const c = pb[pos++]!;
  const dw = sv ? 5 : 4;
  for (let i = 0; i < c; i++, pos += dw) {
    if (pb[pos + 2] === k) {
      const r = pb[pos + 3]!;
      if (r > dep) dep = r;
      out.set(r, [pb[pos]!, pb[pos + 1]!]);
    }
  }
  const rc = pb[pos++]!;
  for (let i = 0; i < rc; i++) {
    if (pb[pos] === k) {
      const r = pb[pos + 1]!;
      const idx = pb[pos + 2]!;
      if (r > dep) dep = r;
      reads.set(`${r}.${idx}`, { r, idx, value: causalReadValue(pb, pos), push: 0 });
    }
    pos += 4 + ((pb[pos + 3]! + 3) >>> 2);
  }
  return dep;
}
