/**
 * Kill schedules for the real-process runs: every count kill must be reachable
 * in every run (kills.test.ts asserts that each one fires), also for an app
 * whose workers' delivery counts depend on timing (master-worker: only the
 * master's count is certain).
 */
import { describe, expect, it } from "vitest";
import { beyondSchedule, makeSchedule } from "./lib/schedule.js";

function countKills(kills: readonly string[]): { rank: number; at: number }[] {
  return kills.filter((k) => k.endsWith("msgs")).map((k) => {
    const [r, n] = k.replace("msgs", "").split("@");
    return { rank: Number(r), at: Number(n) };
  });
}

describe("real-process kill schedules", () => {
  for (const [f, maxRanks] of [[0, undefined], [1, undefined], [0, 1], [0, 2]] as const) {
    it(`f=${f}${maxRanks === undefined ? "" : `, at most ${maxRanks} rank(s) killed`}: count kills stay within the certain deliveries, and the replay pair lands on the master`, () => {
      const deliveries = [60, 1, 1, 1]; // master-worker's certain counts
      for (let seed = 0; seed < 200; seed++) {
        const s = makeSchedule({ seed, size: 4, deliveries, runMs: 3500, f, ...(maxRanks === undefined ? {} : { maxRanks }) });
        const counts = countKills(s.kills);
        expect(counts.length, s.kills.join(" ")).toBeGreaterThanOrEqual(2);
        for (const k of counts) expect(k.at, s.kills.join(" ")).toBeLessThanOrEqual(deliveries[k.rank]!);
        expect(s.replayRank).toBe(0);
      }
    });
  }

  it("f=1: ranks killed in one run are never adjacent", () => {
    for (let seed = 0; seed < 200; seed++) {
      const s = makeSchedule({ seed, size: 4, deliveries: [40, 40, 40, 40], runMs: 3500, f: 1 });
      const ranks = [...new Set(s.kills.map((k) => Number(k.split("@")[0])))];
      for (const a of ranks) for (const b of ranks) if (a !== b) expect(Math.min((a - b + 4) % 4, (b - a + 4) % 4)).toBeGreaterThan(1);
    }
  });

  it("no rank is killed more than twice in a run (the launcher gives up on a third death before going live); outside kills: one rank, then two at once", () => {
    for (const [f, maxRanks] of [[0, undefined], [1, undefined], [0, 2]] as const) {
      for (let seed = 0; seed < 200; seed++) {
        const s = makeSchedule({ seed, size: 4, deliveries: [40, 40, 40, 40], runMs: 3500, f, ...(maxRanks === undefined ? {} : { maxRanks }) });
        const per = new Map<number, number>();
        for (const k of s.kills) per.set(Number(k.split("@")[0]), (per.get(Number(k.split("@")[0])) ?? 0) + 1);
        for (const e of s.external) for (const r of e.ranks) per.set(r, (per.get(r) ?? 0) + 1);
        for (const [r, n] of per) expect(n, `seed ${seed} rank ${r}: ${s.kills.join(" ")} ${JSON.stringify(s.external)}`).toBeLessThanOrEqual(2);
        if (maxRanks !== undefined) expect(per.size).toBeLessThanOrEqual(maxRanks);
        for (const e of s.external) expect(e.atMs).toBeGreaterThan(0);
      }
    }
    // Two ranks at once from outside happens when the policy leaves two ranks with room.
    const both = Array.from({ length: 50 }, (_, seed) => makeSchedule({ seed, size: 4, deliveries: [40, 40, 40, 40], runMs: 3500, f: 0 }));
    expect(both.some((s) => s.external.some((e) => e.ranks.length === 2))).toBe(true);
  });

  it("beyond tolerance: f + 1 consecutive ranks at once (an origin and its replicas)", () => {
    for (let seed = 0; seed < 50; seed++) {
      const s = beyondSchedule({ seed, size: 4, deliveries: [40, 40, 40, 40], runMs: 3500, f: 1, tolerance: 2 });
      expect(s.kills).toEqual([]);
      expect(s.external).toHaveLength(1);
      const r = s.external[0]!.ranks;
      expect(r).toHaveLength(3);
      expect(r.map((x, i) => (x - r[0]! + 4) % 4)).toEqual([0, 1, 2]);
    }
  });
});
