/**
 * The causal specs (family-based, f = 2; Fig 3b hybrid, f = 1), composed from
 * the block library, on the real runtime: `runSimJob` with the real RankHost
 * and the launcher's kills. FBL's failure model: a rank counts as failed from
 * its kill until its next incarnation is live; the kills come in bursts of at
 * most f ranks, 30 virtual ms apart (60 for the reading app: Fig 3b has no
 * checkpoints, so its recoveries replay from the start and take longer), and each run checks (from kill / live
 * times) that at most f were failed at once before requiring the result of
 * the failure-free run with no survivor rollback. The reading app checks the
 * causal read determinants (values piggybacked, gathered back on recovery).
 * Beyond f (unspaced kills, several ranks down together): every run either
 * matches the failure-free run or stops with `unrecoverable`, never anything else.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { KillSpec } from "../../runtime-core/src/launcher/options.js";
import { tokenApp } from "./apps.js";
import { expectSameAsFailureFree } from "./check.js";
import { counterEnv, readApp, readProblems } from "./read-app.js";
import { maxConcurrentDown, runRealJob } from "./realhost-job.js";
import { loadSpec } from "./spec.js";
import { mulberry } from "./harness.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

/** Bursts of up to `f` distinct ranks killed within 2 virtual ms, one burst every `gap` ms inside `span`. */
function bursts(seed: number, size: number, span: number, f: number, gap = 30): KillSpec[] {
  const rnd = mulberry(seed * 7919 + 11);
  const kills: KillSpec[] = [];
  for (let at = 2 + rnd() * 10; at < span; at += gap) {
    const ranks: number[] = [];
    const k = 1 + Math.floor(rnd() * f);
    while (ranks.length < k) {
      const r = Math.floor(rnd() * size);
      if (!ranks.includes(r)) ranks.push(r);
    }
    ranks.forEach((rank, i) => {
      const atMs = Math.round(at + i * rnd() * 2);
      kills.push({ rank, atMs, text: `${rank}@${atMs}ms` });
    });
  }
  return kills;
}

/** Unspaced: 6 kills anywhere in `span` and 2 after a rank's k-th delivery (often more than f down at once). */
function anywhere(seed: number, size: number, span: number): KillSpec[] {
  const rnd = mulberry(seed * 104729 + 5);
  const kills: KillSpec[] = [];
  for (let k = 0; k < 6; k++) {
    const rank = Math.floor(rnd() * size);
    const atMs = Math.round(1 + rnd() * (span - 1));
    kills.push({ rank, atMs, text: `${rank}@${atMs}ms` });
  }
  for (let k = 0; k < 2; k++) {
    const rank = Math.floor(rnd() * size);
    const atDeliveries = 1 + Math.floor(rnd() * 60);
    kills.push({ rank, atDeliveries, text: `${rank}@${atDeliveries}msgs` });
  }
  return kills;
}

const SPECS = [
  ["family-based causal (dependency matrix), f = 2", "family-based-causal.egida", 2],
  ["Fig 3b hybrid causal, f = 1", "fig3b-hybrid-causal.egida", 1],
] as const;

const SEEDS = Array.from({ length: 5 }, (_, i) => i + 1);
const SIZE = 4;

const tally = new Map<string, { runs: number; kills: number; recovered: number; unrecoverable: number }>();
function count(spec: string, run: { kills: number; recovered: number }, unrecoverable = false): void {
  const t = tally.get(spec) ?? { runs: 0, kills: 0, recovered: 0, unrecoverable: 0 };
  t.runs++;
  t.kills += run.kills;
  t.recovered += run.recovered;
  if (unrecoverable) t.unrecoverable++;
  tally.set(spec, t);
}
afterAll(() => {
  for (const [spec, t] of tally) console.log(`realhost ${spec}: ${t.runs} crash runs, ${t.kills} kills, ${t.recovered} recoveries, ${t.unrecoverable} unrecoverable (beyond f)`);
});

describe.each(SPECS)("real host: %s", (_title, file, f) => {
  const factory = composeFromIR(loadSpec(file, { checkpointIntervalMs: 20, flushIntervalMs: 5 }));
  expect(factory.defaultF).toBe(f);
  const apps = {
    ring: () => tokenApp({ tokens: 1, hops: 150, origins: [0] }),
    mesh: () => tokenApp({ tokens: 3, hops: 50 }),
  };

  for (const [appName, mk] of Object.entries(apps)) {
    it.each(SEEDS)(`${appName}: seed %i, bursts of ≤ f kills match the failure-free run`, async (seed) => {
      const ref = await runRealJob({ factory, app: mk(), size: SIZE, seed });
      expect(ref.errors).toEqual([]);
      const run = await runRealJob({ factory, app: mk(), size: SIZE, seed, kills: bursts(seed, SIZE, ref.time, f), restartDelayMs: 3 + (seed % 10) });
      count(file, run);
      expect(run.kills).toBeGreaterThan(0);
      expect(maxConcurrentDown(run.downtimes)).toBeLessThanOrEqual(f);
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
    });
  }

  it.each(SEEDS)("reading app: seed %i, read values recovered from the peers", async (seed) => {
    const mk = () => readApp({ tokens: 2, hops: 40, env: counterEnv() });
    const ref = await runRealJob({ factory, app: mk(), size: SIZE, seed });
    expect(ref.errors).toEqual([]);
    const run = await runRealJob({ factory, app: mk(), size: SIZE, seed, kills: bursts(seed + 50, SIZE, ref.time, f, 60), restartDelayMs: 3 + (seed % 10) });
    count(file, run);
    expect(run.kills).toBeGreaterThan(0);
    expect(maxConcurrentDown(run.downtimes)).toBeLessThanOrEqual(f);
    expect(run.errors).toEqual([]);
    expect(run.retractions).toEqual([]);
    expect(run.survivorRollbacks).toBe(0);
    expect(readProblems(run.states, run.outputs, SIZE)).toEqual([]);
    expect(run.states.map((s) => Object.keys(s.reads).sort())).toEqual(ref.states.map((s) => Object.keys(s.reads).sort()));
  });

  it("beyond f: 12 seeds of unspaced kills, each identical to the failure-free run or unrecoverable", async () => {
    let beyond = 0;
    for (let seed = 300; seed < 312; seed++) {
      const mk = () => tokenApp({ tokens: 3, hops: 50 });
      const ref = await runRealJob({ factory, app: mk(), size: SIZE, seed });
      const run = await runRealJob({ factory, app: mk(), size: SIZE, seed, kills: anywhere(seed, SIZE, ref.time), restartDelayMs: 15 });
      if (maxConcurrentDown(run.downtimes) > f) beyond++;
      const unrecoverable = run.errors.length > 0 && run.errors.every((e) => /unrecoverable/.test(e));
      count(`${file} (beyond f)`, run, unrecoverable);
      if (unrecoverable) {
        expect(maxConcurrentDown(run.downtimes)).toBeGreaterThan(f);
        expect(run.retractions).toEqual([]);
      } else {
        expectSameAsFailureFree(ref, run, { noSurvivorRollback: maxConcurrentDown(run.downtimes) <= f });
      }
    }
    expect(beyond).toBeGreaterThan(0);
  });
});
