/**
 * Book-keeping shared by the TCP orchestrator and the simulation: who is
 * done, incarnations, delivery counts across incarnations (for
 * `--kill RANK@Kmsgs`), restarts, the first failure.
 */
import type { JobFailure } from "../host/errors.js";
import type { ProtocolStats } from "../spi.js";
import type { KillSpec } from "./options.js";
import type { RankSummary } from "./report.js";

interface RankState {
  incarnation: number;
  done: boolean;
  /** Deliveries of dead incarnations; the live one's count adds to it. */
  deliveredBefore: number;
  delivered: number;
  restarts: number;
  outputs: number;
  stats: ProtocolStats | null;
  /** Log sync rounds of the last incarnation (the storage provider's logSyncs), when it reported them. */
  logSyncs?: number;
  stateLost: boolean;
}

export class JobState {
  readonly ranks: RankState[];
  private readonly kills: { spec: KillSpec; fired: boolean }[];
  failure: JobFailure | null = null;
  /** When any rank last delivered a message (launcher clock). */
  lastProgress: number;
  stateLost = false;

  constructor(
    readonly size: number,
    kills: readonly KillSpec[],
    now: number,
  ) {
    this.ranks = Array.from({ length: size }, () => ({
      incarnation: 0,
      done: false,
      deliveredBefore: 0,
      delivered: 0,
      restarts: 0,
      outputs: 0,
      stats: null,
      stateLost: false,
    }));
    this.kills = kills.map((spec) => ({ spec, fired: false }));
    this.lastProgress = now;
  }

  rank(r: number): RankState {
    return this.ranks[r]!;
  }

  get allDone(): boolean {
    return this.ranks.every((r) => r.done);
  }

  notDone(): number[] {
    return this.ranks.flatMap((r, i) => (r.done ? [] : [i]));
  }

  /** Record the live incarnation's delivery count; returns the total across incarnations. */
  delivered(r: number, count: number, now: number): number {
    const s = this.rank(r);
    if (count !== s.delivered) this.lastProgress = now;
    s.delivered = count;
    return s.deliveredBefore + count;
  }

  /** Deliveries left before rank r's earliest pending count-kill, relative to the live incarnation (null: none). */
  killAfter(r: number): number | null {
    const s = this.rank(r);
    let best: number | null = null;
    for (const k of this.kills) {
      if (k.fired || k.spec.rank !== r || k.spec.atDeliveries === undefined) continue;
      const left = k.spec.atDeliveries - s.deliveredBefore;
      if (best === null || left < best) best = left;
    }
    return best === null ? null : Math.max(best, 1);
  }

  /** A pending count-kill on r whose threshold `total` has reached; marks it fired. */
  takeCountKill(r: number, total: number): KillSpec | null {
    for (const k of this.kills) {
      if (!k.fired && k.spec.rank === r && k.spec.atDeliveries !== undefined && total >= k.spec.atDeliveries) {
        k.fired = true;
        return k.spec;
      }
    }
    return null;
  }

  timeKills(): KillSpec[] {
    return this.kills.filter((k) => k.spec.atMs !== undefined).map((k) => k.spec);
  }

  markTimeKillFired(spec: KillSpec): boolean {
    const k = this.kills.find((x) => x.spec === spec);
    if (!k || k.fired) return false;
    k.fired = true;
    return true;
  }

  /** The rank died: fold its count into the base; returns the next incarnation. */
  died(r: number, exactCount?: number): number {
    const s = this.rank(r);
    s.deliveredBefore += exactCount ?? s.delivered;
    s.delivered = 0;
    s.restarts++;
    s.incarnation++;
    return s.incarnation;
  }

  fail(f: JobFailure): void {
    this.failure ??= f;
  }

  summaries(): RankSummary[] {
    return this.ranks.map((s, rank) => ({
      rank,
      deliveries: s.deliveredBefore + s.delivered,
      restarts: s.restarts,
      outputs: s.outputs,
      stats: s.stats,
      ...(s.logSyncs !== undefined ? { logSyncs: s.logSyncs } : {}),
    }));
  }
}
