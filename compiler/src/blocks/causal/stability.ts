/**
 * Causal logging helpers (not a block: imported by value by the causal/*
 * blocks, copied into generated code like tags.ts). No param() here.
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
 * - hybrid: it is on k's stable log (k's flushed rsn is known here).
 * Stable = held by f + 1 processes (or on stable storage): no longer piggybacked.
 */
import type { K } from "../kernel.js";

/** One entry of the volatile determinant log, keyed by (dest, rsn): #m = <src, ssn, dest, rsn>. */
export interface CDet {
  readonly src: number;
  readonly ssn: number;
  /** Bitmask of processes that acknowledged an output-commit push of it (volatile, cleared on their restart). */
  push: number;
}

/** Is #(k, r) stable as far as this process knows (held by f + 1 processes, or on stable storage)? */
export function causalStable(s: K, k: number, r: number, push: number, f: number): boolean {
  if (s.cdFlushed[k]! >= r) return true;
  const n = s.host.size;
  let bits = push | (1 << k) | (1 << s.host.rank);
  for (let j = 0; j < n; j++) if (s.cdDm[j * n + k]! >= r) bits |= 1 << j;
  let c = 0;
  while (bits !== 0) {
    bits &= bits - 1;
    c++;
  }
  return c >= f + 1;
}

/**
 * Add #(k, r) = <src, ssn> to the volatile log (unless a checkpoint of k
 * covers it). Returns a reason when the log already holds a different
 * determinant for that event: some process saw a history recovery could not
 * reproduce (a lost determinant was re-executed differently: more than f
 * concurrent failures). Callers stop with host.unrecoverable, never continue.
 */
export function causalAdd(s: K, k: number, r: number, src: number, ssn: number): string | null {
  if (r <= s.cdGc[k]!) return null;
  const had = s.cdDets[k]!.get(r);
  if (had === undefined) s.cdDets[k]!.set(r, { src, ssn, push: 0 });
  else if (had.src !== src || had.ssn !== ssn) {
    return `conflicting determinants for delivery ${r} of rank ${k}: <${had.src}, ${had.ssn}> and <${src}, ${ssn}> (more than f concurrent failures)`;
  }
  return null;
}

/** Drop the determinants of k that k's durable checkpoint covers (GarbageCollect). */
export function causalGc(s: K, k: number, upto: number): void {
  if (upto > s.cdGc[k]!) {
    s.cdGc[k] = upto;
    for (const r of [...s.cdDets[k]!.keys()]) if (r <= upto) s.cdDets[k]!.delete(r);
  }
}

/**
 * Scan a received piggyback (words after the core header) for determinants
 * of rank `k` and for the sender's dependency on k (DM[from][k]); used to
 * answer a recovering k's request from messages not delivered yet.
 * Returns the highest rsn of k the message depends on; adds its dets of k to `out`.
 */
export function causalScanPb(pb: Uint32Array, from: number, k: number, n: number, tracking: boolean, out: Map<number, number[]>): number {
  let pos = 1;
  let dep = 0;
  if (tracking) {
    dep = pb[pos + from * n + k]!;
    pos += n * n;
  }
  const c = pb[pos++]!;
  for (let i = 0; i < c; i++, pos += 4) {
    if (pb[pos + 2] === k) {
      const r = pb[pos + 3]!;
      if (r > dep) dep = r;
      out.set(r, [pb[pos]!, pb[pos + 1]!]);
    }
  }
  return dep;
}
