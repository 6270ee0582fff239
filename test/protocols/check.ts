/** Compare a crash run with the failure-free run (protocols.md, "Invariants a checker can test"). */
import { expect } from "vitest";
import type { JobResult } from "./harness.js";
import type { TokenState } from "./apps.js";

/** Per rank, the sorted multiset of output values. */
function outputsByRank(r: JobResult<TokenState>): string[][] {
  const by: string[][] = [];
  for (const [k, v] of r.outputs) {
    const rank = Number(k.split(":")[0]);
    (by[rank] ??= []).push(JSON.stringify(v));
  }
  return by.map((l) => (l ?? []).sort());
}

export function expectSameAsFailureFree(ref: JobResult<TokenState>, run: JobResult<TokenState>, opts: { noSurvivorRollback: boolean }): void {
  expect(run.errors).toEqual([]);
  expect(run.retractions).toEqual([]);
  expect(run.done.every((d) => d)).toBe(true);
  // Exactly-once delivery: no duplicate delivered, every expected message delivered.
  for (const s of run.states) {
    expect(s.dups).toBe(0);
    expect(s.count).toBe(s.expected);
  }
  // Identical final states and outputs (order-deterministic app).
  expect(run.states.map((s) => [s.digest, s.count])).toEqual(ref.states.map((s) => [s.digest, s.count]));
  expect(outputsByRank(run)).toEqual(outputsByRank(ref));
  // Output seqs are dense per rank (no gaps: nothing lost, nothing renumbered).
  const counts = outputsByRank(run).map((l) => l.length);
  for (let rank = 0; rank < counts.length; rank++) {
    for (let seq = 1; seq <= counts[rank]!; seq++) expect(run.outputs.has(`${rank}:${seq}`)).toBe(true);
  }
  if (opts.noSurvivorRollback) expect(run.survivorRollbacks).toBe(0);
}
