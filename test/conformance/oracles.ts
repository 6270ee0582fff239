/**
 * The oracles: each reads a JobResult and returns violations with a message
 * a person can act on. Safety properties (nothing duplicated, nothing
 * delivered that was never sent, nothing released that the history does not
 * hold, no forbidden rollback) are checked on every run, on the ranks that
 * are up at the end; completeness (nothing missing, outputs and states equal
 * the references) only on runs that finished.
 *
 * References (protocols.md, "Invariants a checker can test"):
 *  - order-deterministic apps: a failure-free run (same app, any protocol);
 *  - every app: the failure-free replay of each rank's recorded delivery
 *    order and read values (replay.ts).
 */
import { describeFailure } from "../../runtime-core/src/host/errors.js";
import type { App } from "../../runtime-core/src/spi.js";
import type { CrashRecord, JobResult } from "./harness.js";
import type { Step } from "./history.js";
import { replayRank } from "./replay.js";
import { showCanonical } from "./canon.js";

export type Family = "pessimistic" | "causal" | "optimistic" | "checkpoint-only" | "none";

export interface Violation {
  readonly oracle: "outcome" | "exactly-once" | "outputs" | "reference" | "replay" | "family" | "storage";
  readonly message: string;
}

export interface OracleContext {
  readonly app: App<unknown>;
  readonly args: readonly string[];
  readonly orderDeterministic: boolean;
  readonly family: Family;
  /** A failure-free run of the same app (needed for order-deterministic apps). */
  readonly reference?: JobResult;
  /** Check bounded storage (only meaningful for long runs with several checkpoints). */
  readonly boundedStorage?: boolean;
}

/** Every oracle that applies to this run. */
export async function checkRun(r: JobResult, c: OracleContext): Promise<Violation[]> {
  const v: Violation[] = [...checkOutcome(r), ...checkExactlyOnce(r), ...checkOutputs(r), ...checkFamily(r, c.family)];
  if (r.finished) {
    if (c.orderDeterministic && c.reference) v.push(...checkAgainstReference(r, c.reference));
    v.push(...(await checkReplay(r, c.app, c.args)));
  }
  if (c.boundedStorage) v.push(...checkBoundedStorage(r));
  return v;
}

/** More ranks down at once than the protocol tolerates. */
export function beyondTolerance(r: JobResult): boolean {
  return r.maxConcurrent > r.f;
}

/** Hangs, failures, and `unrecoverable` only where the schedule exceeded f. */
export function checkOutcome(r: JobResult): Violation[] {
  const beyond = beyondTolerance(r);
  const tol = `${r.maxConcurrent} concurrent failure(s), f = ${r.f}`;
  if (r.unrecoverable !== null) {
    return beyond ? [] : [{ oracle: "outcome", message: `declared "${r.unrecoverable}" within tolerance (${tol})` }];
  }
  if (r.failure !== null) return [{ oracle: "outcome", message: `job failed: ${describeFailure(r.failure)}` }];
  if (r.hang !== null) {
    const why = beyond ? `beyond tolerance (${tol}) the job must stop with "unrecoverable: ...", but it hung: ` : "";
    return [{ oracle: "outcome", message: `${why}${r.hang}` }];
  }
  return [];
}

const hex = (d: number): string => d.toString(16).padStart(8, "0");

function sentOn(steps: readonly Step[], to: number): number[] {
  const out: number[] = [];
  for (const s of steps) for (const m of s.sends) if (m.to === to) out.push(m.digest);
  return out;
}

function deliveredFrom(steps: readonly Step[], from: number): number[] {
  return steps.filter((s) => s.from === from).map((s) => s.digest);
}

function count(xs: readonly number[], x: number): number {
  let n = 0;
  for (const y of xs) if (y === x) n++;
  return n;
}

/**
 * Exactly-once delivery: per channel i→j, the receiver's effective delivery
 * sequence (rolled-back suffixes removed, replays in place) equals the
 * sender's effective send sequence — a prefix of it while the run is cut short.
 */
export function checkExactlyOnce(r: JobResult): Violation[] {
  const v: Violation[] = [];
  const n = r.size;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j || !(r.finished || (r.liveAtEnd[i] && r.liveAtEnd[j]))) continue;
      const S = sentOn(r.histories[i]!.steps, j);
      const D = deliveredFrom(r.histories[j]!.steps, i);
      const k = firstMismatch(D, S);
      if (k < D.length) {
        const d = D[k]!;
        const what =
          count(S, d) === 0
            ? `orphan: rank ${j} delivered a message (crc ${hex(d)}) that rank ${i}'s history never sent (delivered but never sent)`
            : count(D, d) > count(S, d)
              ? `duplicate: message crc ${hex(d)} was delivered ${count(D, d)} times but sent ${count(S, d)} time(s)`
              : `out of order: delivery #${k + 1} is crc ${hex(d)}, but send #${k + 1} was crc ${hex(S[k] ?? 0)}`;
        v.push({ oracle: "exactly-once", message: `channel ${i}→${j}: ${what} (${D.length} delivered, ${S.length} sent)` });
      } else if (r.finished && D.length < S.length) {
        v.push({
          oracle: "exactly-once",
          message: `channel ${i}→${j}: missing: ${S.length - D.length} message(s) sent but never delivered (first: send #${D.length + 1}, crc ${hex(S[D.length]!)})`,
        });
      }
    }
  }
  return v;
}

function firstMismatch(d: readonly number[], s: readonly number[]): number {
  let k = 0;
  while (k < d.length && k < s.length && d[k] === s[k]) k++;
  return k;
}

/** Outputs and states are kept canonical (canon.ts): readable as they are. */
const show = (bytes: Uint8Array): string => showCanonical(bytes);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function historyWrites(steps: readonly Step[]): Uint8Array[] {
  return steps.flatMap((s) => s.writes);
}

/**
 * Outputs: what the sink released for a rank is exactly what its effective
 * history wrote, in order — nothing duplicated or taken back (a prefix while
 * cut short), nothing lost (on finished runs). Retractions are job failures.
 */
export function checkOutputs(r: JobResult): Violation[] {
  const v: Violation[] = [];
  for (let rank = 0; rank < r.size; rank++) {
    if (!(r.finished || r.liveAtEnd[rank])) continue;
    const H = historyWrites(r.histories[rank]!.steps);
    const O = r.outputs[rank]!;
    let k = 0;
    while (k < O.length && k < H.length && sameBytes(O[k]!.bytes, H[k]!)) k++;
    if (k < O.length) {
      const o = O[k]!;
      const what =
        k >= H.length
          ? `released ${O.length} outputs but its history wrote ${H.length}: output seq ${o.seq} ${show(o.bytes)} is duplicated or belongs to a rolled-back state`
          : `output #${k + 1} (seq ${o.seq}) released ${show(o.bytes)} but the history wrote ${show(H[k]!)} (retracted or reordered)`;
      v.push({ oracle: "outputs", message: `rank ${rank}: ${what}` });
    } else if (r.finished && O.length < H.length) {
      v.push({ oracle: "outputs", message: `rank ${rank}: lost output: the history wrote ${H.length}, the sink released ${O.length} (first missing: ${show(H[O.length]!)})` });
    }
  }
  return v;
}

/** Order-deterministic apps: outputs and final states equal a failure-free run's. */
export function checkAgainstReference(r: JobResult, ref: JobResult): Violation[] {
  const v: Violation[] = [];
  for (let rank = 0; rank < r.size; rank++) {
    const O = r.outputs[rank]!;
    const R = ref.outputs[rank]!;
    let k = 0;
    while (k < O.length && k < R.length && sameBytes(O[k]!.bytes, R[k]!.bytes)) k++;
    if (k < O.length || k < R.length) {
      const got = k < O.length ? show(O[k]!.bytes) : "nothing";
      const want = k < R.length ? show(R[k]!.bytes) : "nothing";
      v.push({ oracle: "reference", message: `rank ${rank}: output #${k + 1} is ${got}, the failure-free run's is ${want} (${O.length} vs ${R.length} outputs)` });
    }
    const a = r.finalStates[rank];
    const b = ref.finalStates[rank];
    if (a && b && !sameBytes(a, b)) {
      v.push({ oracle: "reference", message: `rank ${rank}: final state ${show(a)} differs from the failure-free run's ${show(b)}` });
    }
  }
  return v;
}

/**
 * Every app: each rank's writes, sends and final state equal a failure-free
 * replay of its recorded delivery order and read values.
 */
export async function checkReplay(r: JobResult, app: App<unknown>, args: readonly string[]): Promise<Violation[]> {
  const v: Violation[] = [];
  for (let rank = 0; rank < r.size; rank++) {
    const steps = r.histories[rank]!.steps;
    const complete = steps.every((s) => s.complete);
    const rep = await replayRank(app, rank, r.size, args, steps);
    if (rep.error !== null) {
      v.push({ oracle: "replay", message: `the failure-free replay of the recorded delivery order fails: ${rep.error}` });
      continue;
    }
    const H = historyWrites(steps);
    const W = rep.writes;
    const n = complete ? Math.max(H.length, W.length) : Math.min(H.length, W.length);
    for (let k = 0; k < n; k++) {
      if (k >= H.length || k >= W.length || !sameBytes(H[k]!, W[k]!)) {
        v.push({
          oracle: "replay",
          message: `rank ${rank}: write #${k + 1} was ${k < H.length ? show(H[k]!) : "nothing"}, the replay of its delivery order writes ${k < W.length ? show(W[k]!) : "nothing"}`,
        });
        break;
      }
    }
    for (let p = 0; p < steps.length; p++) {
      const a = steps[p]!.sends.map((m) => `${m.to}:${m.digest}`).join(",");
      const b = (rep.sends[p] ?? []).map((m) => `${m.to}:${m.digest}`).join(",");
      if (a !== b && (steps[p]!.complete || !b.startsWith(a))) {
        v.push({ oracle: "replay", message: `rank ${rank}: at position ${p} the run sent [${a}], the replay sends [${b}]` });
        break;
      }
    }
    const fin = r.finalStates[rank];
    if (complete && fin && !sameBytes(fin, rep.finalState)) {
      v.push({ oracle: "replay", message: `rank ${rank}: final state ${show(fin)} differs from the replay's ${show(rep.finalState)}` });
    }
  }
  return v;
}

/**
 * Recovery rebuilt `before` at the same position: the same delivery, and the
 * same sends and writes — a prefix of them when the crash cut the handler
 * short (the re-executed handler then goes on further).
 */
function rebuilt(before: Step, after: Step, unseen: (send: number) => boolean = () => false, unseenWrite: (write: number) => boolean = () => false): boolean {
  const prefix = <T>(a: readonly T[], b: readonly T[], eq: (x: T, y: T, i: number) => boolean): boolean =>
    (before.complete ? a.length === b.length : a.length <= b.length) && a.every((x, i) => eq(x, b[i]!, i));
  return (
    before.from === after.from &&
    before.digest === after.digest &&
    prefix(before.sends, after.sends, (x, y, i) => x.to === y.to && (x.digest === y.digest || unseen(i))) &&
    prefix(before.writes, after.writes, (x, y, i) => sameBytes(x, y) || unseenWrite(i))
  );
}

/**
 * Causal logging within f may lose a non-deterministic event together with
 * every process that depended on it (a determinant held only by processes
 * that failed together): the recovered process then re-executes it
 * differently, and that is correct, since no survivor saw the old outcome
 * (no orphans). So under causal logging a send of the crashed process's
 * visible state may differ if no surviving state of its receiver delivered
 * it: the receiver's next crash at or after this one lost the delivery
 * (channels are FIFO, so the k-th send to it is its k-th delivery from us),
 * or, when it did not crash again, no surviving state of it delivered the old
 * message (it had crashed before this one without having made that delivery
 * visible, or the frame was lost with our crash's last step).
 */
function unseenBySurvivors(r: JobResult, c: CrashRecord): (pos: number, send: number) => boolean {
  return (pos, send) => {
    const to = c.before[pos]!.sends[send]!.to;
    let k = 0;
    for (let p = 0; p <= pos; p++) {
      const sends = c.before[p]!.sends;
      for (let i = 0; i < (p === pos ? send + 1 : sends.length); i++) if (sends[i]!.to === to) k++;
    }
    const digest = c.before[pos]!.sends[send]!.digest;
    const next = r.crashes.filter((d) => d.rank === to && d.time >= c.time).sort((a, b) => a.time - b.time)[0];
    if (next !== undefined) {
      // Its k-th delivery from us is our k-th send unless that frame was lost with our last step
      // (then a later one took its place, with another digest).
      const delivery = next.before.filter((s) => s.from === c.rank)[k - 1];
      return delivery === undefined || delivery.pos > next.visible || delivery.digest !== digest;
    }
    // No later crash of the receiver. If it crashed before us, only a state it
    // had made visible by then, or one of its later incarnations, can have
    // delivered the old message: it may have been in flight to that crash and
    // our incarnation died before resending it (then our successor's different
    // send is the only one it ever delivers, a correct recovery). If it never
    // crashed, it saw the old message only if it delivered it: the crash may
    // have lost the frame before it left (the network loses what a crashing
    // process sent in its last step, harness.ts).
    const prev = r.crashes.filter((d) => d.rank === to && d.time < c.time).sort((a, b) => b.time - a.time)[0];
    if (prev !== undefined) {
      const earlier = prev.before.filter((s) => s.from === c.rank)[k - 1];
      if (earlier !== undefined && earlier.pos <= prev.visible) return false;
    }
    // By digest, not by position: a later delivery with the same payload counts as seen (conservative).
    const since = prev === undefined ? -1 : prev.incarnation;
    // And only if a frame with it came from the crashed incarnation: the recovered one may send the same bytes.
    const h = r.histories[to]!;
    if (!h.received.some((x) => x.from === c.rank && x.fromIncarnation === c.incarnation && x.digest === digest)) return true;
    return !h.deliveries.some((d) => d.incarnation > since && d.from === c.rank && d.digest === digest);
  };
}

/** Nothing of positions `from`..visible of the crashed incarnation reached a survivor: no send seen, no write released. */
function divergenceUnseen(c: CrashRecord, from: number, unseen: (pos: number, send: number) => boolean): boolean {
  for (let q = from; q <= c.visible; q++) {
    const st = c.before[q]!;
    if (st.writeReleased.some(Boolean)) return false;
    for (let i = 0; i < st.sends.length; i++) if (!unseen(q, i)) return false;
  }
  return true;
}

/**
 * Family guarantees (egida-language.md §5). Pessimistic, and causal within
 * f: no process that did not fail rolls back, and a failed process returns
 * to exactly its pre-crash state (the part of it others could see).
 * Optimistic and checkpoint-only may roll back; what they must still give
 * (orphans rolled back, committed output never retracted, a consistent cut)
 * is what checkExactlyOnce and checkOutputs check on every run.
 */
export function checkFamily(r: JobResult, family: Family): Violation[] {
  if (!(family === "pessimistic" || family === "causal") || beyondTolerance(r)) return [];
  const v: Violation[] = [];
  for (const rb of r.rollbacks) {
    if (rb.live) v.push({ oracle: "family", message: `${family}: rank ${rb.rank} (incarnation ${rb.incarnation}) rolled back while it had not failed: ${rb.why}` });
  }
  r.histories.forEach((h, rank) => {
    for (const g of h.regressions) {
      if (g.live) v.push({ oracle: "family", message: `${family}: rank ${rank} (incarnation ${g.incarnation}) went back from position ${g.from} to ${g.to} while it had not failed` });
    }
  });
  for (const c of r.crashes) {
    if (!(r.finished || r.liveAtEnd[c.rank])) continue;
    const now = r.histories[c.rank]!.steps;
    // Pessimistic logging by the durable watermark: a step may complete with reads whose records
    // were not durable yet, its later sends and outputs held; a crash then loses those reads, and
    // recovery produces them afresh. What never left the process (a send that did not leave, an
    // output not released) may differ after recovery; everything that left must be rebuilt exactly.
    const unseen = family === "causal" ? unseenBySurvivors(r, c) : (p: number, i: number) => c.before[p]!.sendLeft[i] !== true;
    const unseenWrite = family === "causal" ? () => false : (p: number, i: number) => c.before[p]!.writeReleased[i] !== true;
    for (let p = 0; p <= c.visible; p++) {
      const before = c.before[p]!;
      const after = now[p];
      if (after === undefined || !rebuilt(before, after, (i) => unseen(p, i), (i) => unseenWrite(p, i))) {
        // Causal within f: a determinant lost with every process that depended on it lets the
        // recovered process re-execute from here differently, as long as no survivor saw anything
        // of positions p..visible (a crash may lose the frames that carried them, harness.ts).
        if (family === "causal" && after !== undefined && divergenceUnseen(c, p, unseen)) break;
        const desc = (s: Step | undefined): string =>
          s === undefined ? "nothing (not recovered that far)" : s.from < 0 ? "onStart" : `a message from rank ${s.from} (crc ${hex(s.digest)}), ${s.sends.length} send(s), ${s.writes.length} write(s)`;
        v.push({
          oracle: "family",
          message: `${family}: rank ${c.rank} did not return to its pre-crash state (crash at ${c.trigger}, incarnation ${c.incarnation}): position ${p} was ${desc(before)} before the crash, ${desc(after)} after recovery (state up to position ${c.visible} had been seen by others)`,
        });
        break;
      }
    }
  }
  return v;
}

/**
 * Bounded storage in a long run: per rank that took at least 3 checkpoints,
 * old checkpoints are collected, the logs shrink at some point, and the
 * stored bytes in the last third of the run stay within twice those of the
 * first third (a log that is never truncated grows linearly).
 */
export function checkBoundedStorage(r: JobResult): Violation[] {
  const v: Violation[] = [];
  const taken = new Array<number>(r.size).fill(0);
  for (const e of r.trace) if (e.type === "checkpoint") taken[e.rank]!++;
  const s = r.storage;
  if (s.length < 6) return v;
  for (let rank = 0; rank < r.size; rank++) {
    if (taken[rank]! < 3) continue;
    const last = s[s.length - 1]!;
    if (last.checkpoints[rank]! >= taken[rank]!) {
      v.push({ oracle: "storage", message: `rank ${rank}: keeps all ${taken[rank]} checkpoints it took (none garbage-collected)` });
    }
    const logs = s.map((x) => x.log[rank]!);
    const shrank = logs.some((b, i) => i > 0 && b < logs[i - 1]!);
    if (Math.max(...logs) > 0 && !shrank) v.push({ oracle: "storage", message: `rank ${rank}: its logs never shrink (peak ${Math.max(...logs)} bytes) despite ${taken[rank]} checkpoints` });
    const third = Math.floor(s.length / 3);
    const total = (x: (typeof s)[number]): number => x.log[rank]! + x.checkpoint[rank]!;
    const early = Math.max(...s.slice(0, third).map(total));
    const late = Math.max(...s.slice(s.length - third).map(total));
    if (late > 2 * early + 4096) v.push({ oracle: "storage", message: `rank ${rank}: storage grows: peak ${late} bytes in the last third of the run vs ${early} in the first` });
  }
  return v;
}
