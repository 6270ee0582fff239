/**
 * Seeded kill schedules for real-process runs. A schedule mixes:
 *  - count kills (`R@Kmsgs`, executed by the rank right after its K-th
 *    delivery, counted across incarnations with replays), at random ranks and
 *    random points of the failure-free run's per-rank delivery counts;
 *  - the same rank twice, the second kill a few deliveries after the first,
 *    so it lands while that rank replays (the count includes replayed
 *    deliveries);
 *  - a time kill (`R@Tms`, SIGKILL from the launcher) at a random point of the
 *    failure-free run's duration (it may land after the job ended: then it
 *    does not fire).
 * `f` > 0 (Fig 4b's replicated log): ranks killed in one run are pairwise
 * non-adjacent (rank r's replicas are r+1..r+f), so no origin and replica are
 * down together; `maxRanks` (causal logging, f-tolerant: at most f down at
 * once) caps how many distinct ranks one run kills; with neither (stable
 * storage) any ranks may be down together.
 */
import { Prng } from "../../../runtime-core/src/sim/prng.js";

export interface ScheduleInput {
  readonly seed: number;
  readonly size: number;
  /** Deliveries per rank in the failure-free run. */
  readonly deliveries: readonly number[];
  /** Wall-clock ms of the failure-free run (launch to end). */
  readonly runMs: number;
  /** Replication degree: > 0 restricts which ranks may be killed in one run. */
  readonly f: number;
  /** Number of count kills besides the replay kill (default 2). */
  readonly kills?: number;
  /** At most this many distinct ranks are killed in the run. */
  readonly maxRanks?: number;
}

export interface Schedule {
  readonly kills: string[];
  /** The rank killed twice, the second time during its replay. */
  readonly replayRank: number;
  /** `kill -9` from outside at random times: one rank, then two ranks at once where the policy allows. */
  readonly external: { atMs: number; ranks: number[] }[];
}

/**
 * Beyond the protocol's tolerance: f + 1 ranks killed at once from outside
 * (for a replicated log, an origin and its f replicas). The job must end
 * with exit 3 "unrecoverable", or, where the lost state happened not to be
 * needed, with the failure-free result; never hang or commit a wrong result.
 */
export function beyondSchedule(p: ScheduleInput & { readonly tolerance: number }): Schedule {
  const rng = new Prng(0xbe70 + p.seed * 7919);
  const first = rng.int(0, p.size - 1);
  const ranks = Array.from({ length: Math.min(p.size, p.tolerance + 1) }, (_, i) => (first + i) % p.size);
  return { kills: [], replayRank: -1, external: [{ atMs: Math.floor(p.runMs * (0.3 + 0.4 * rng.next())), ranks }] };
}

export function makeSchedule(p: ScheduleInput): Schedule {
  const rng = new Prng(0x5eed + p.seed * 7919);
  // Ranks certain to deliver enough for the replay pair go first, so a maxRanks cap keeps one
  // (a stable partition: when every rank qualifies, the seeded order is unchanged).
  const ranked = eligibleRanks(p, rng);
  const eligible = [...ranked.filter((r) => p.deliveries[r]! >= 8), ...ranked.filter((r) => p.deliveries[r]! < 8)].slice(0, p.maxRanks ?? p.size);
  const kills: string[] = [];
  const used = new Map<number, number[]>();
  const add = (r: number, k: number): void => {
    const list = used.get(r) ?? [];
    if (list.includes(k)) return; // one kill per (rank, count)
    list.push(k);
    used.set(r, list);
    kills.push(`${r}@${k}msgs`);
  };
  // The same rank twice, the second kill during its replay: K1 in the middle
  // of its run, K2 = K1 + 1 (replay re-delivers from its last checkpoint, so
  // the count passes K1 + 1 at its first replayed delivery, unless a
  // checkpoint covered exactly K1 deliveries: then nothing is replayed).
  const replayRank = eligible.filter((r) => p.deliveries[r]! >= 8)[0] ?? eligible[0]!;
  const d = p.deliveries[replayRank]!;
  const k1 = Math.max(3, Math.floor(d * (0.3 + 0.4 * rng.next())));
  add(replayRank, k1);
  add(replayRank, k1 + 1);
  for (let i = 0; i < (p.kills ?? 2); i++) {
    // At most 2 kills per rank: the launcher gives up on a rank that dies 3
    // times before going live, and replays make the counts pass quickly.
    const free = eligible.filter((r) => (used.get(r)?.length ?? 0) < 2);
    if (free.length === 0) break;
    const r = free[rng.int(0, free.length - 1)]!;
    const dr = p.deliveries[r]!;
    if (dr < 2) continue;
    add(r, 1 + rng.int(0, dr - 2));
  }
  // The launcher's time kill, on a rank with fewer than two kills (its draw is kept either way, so seeds stay comparable).
  const tr = eligible[rng.int(0, eligible.length - 1)]!;
  const trMs = Math.floor(p.runMs * (0.35 + 0.5 * rng.next()));
  const trRank = (used.get(tr)?.length ?? 0) < 2 ? tr : eligible.find((r) => (used.get(r)?.length ?? 0) < 2);
  if (trRank !== undefined) {
    kills.push(`${trRank}@${trMs}ms`);
    used.set(trRank, [...(used.get(trRank) ?? []), -1]);
  }
  // From outside, at random times: one rank, then two at once. Each kill counts toward the
  // rank's two (the launcher gives up on a rank that dies 3 times before going live).
  const external: Schedule["external"] = [];
  const pick = (n: number): number[] => {
    const free = eligible.filter((r) => (used.get(r)?.length ?? 0) < 2);
    const out: number[] = [];
    while (out.length < n && free.length > 0) out.push(free.splice(rng.int(0, free.length - 1), 1)[0]!);
    for (const r of out) used.set(r, [...(used.get(r) ?? []), -1]);
    return out;
  };
  const one = pick(1);
  if (one.length === 1) external.push({ atMs: Math.floor(p.runMs * (0.2 + 0.6 * rng.next())), ranks: one });
  const two = pick(2);
  if (two.length === 2) external.push({ atMs: Math.floor(p.runMs * (0.2 + 0.6 * rng.next())), ranks: two });
  return { kills, replayRank, external };
}

function eligibleRanks(p: ScheduleInput, rng: Prng): number[] {
  const all = [...Array(p.size).keys()].filter((r) => p.deliveries[r]! > 0);
  if (p.f <= 0) {
    // A seeded shuffle, so a maxRanks cap picks different ranks per seed.
    for (let i = all.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    return all;
  }
  // Pairwise at distance > f (mod size): take every (f+1)-th rank from a random start, moving the
  // start when that set has no rank with enough deliveries for the replay pair (an app where only
  // some ranks are certain to deliver much, like master-worker's master).
  const first = rng.int(0, p.f);
  let fallback: number[] | null = null;
  for (let i = 0; i <= p.f; i++) {
    const set = ranksFrom((first + i) % (p.f + 1), p);
    if (set.some((r) => p.deliveries[r]! >= 8)) return set;
    fallback ??= set;
  }
  return fallback!;
}

function ranksFrom(start: number, p: ScheduleInput): number[] {
  const out: number[] = [];
  for (let r = start; r < p.size; r += p.f + 1) {
    if (out.length === 0 || out[0]! + p.size - r > p.f) out.push(r); // also far enough from the first, around the ring
  }
  return out.filter((r) => p.deliveries[r]! > 0);
}
