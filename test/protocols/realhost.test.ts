/**
 * The pessimistic specs, composed from the block library, on the real
 * runtime: `runSimJob` with the real RankHost (fencing of crashed
 * incarnations, idempotent sink, contract checks) and the launcher's kills:
 * at seeded virtual times (mid-delivery, mid-sync, mid-checkpoint) and right
 * after a rank's k-th delivery. Fig 4b runs on the real replicated log
 * (`volatile memory of processes`: f acknowledgements over runtime control
 * frames, records fetched back from the replicas on recovery), with crashes
 * spaced so at most f = 1 rank is down at a time. Every crash run must match
 * the failure-free run of its seed; no survivor may roll back.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { KillSpec } from "../../runtime-core/src/launcher/options.js";
import { tokenApp } from "./apps.js";
import { expectSameAsFailureFree } from "./check.js";
import { counterEnv, readApp, readProblems } from "./read-app.js";
import { maxConcurrentDown, runRealJob } from "./realhost-job.js";
import { loadSpec } from "./spec.js";
import { mulberry } from "./harness.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

/**
 * Seeded kills inside the failure-free run's duration `span` (virtual ms), so
 * they land while the job runs. `spaced`: one every 30 virtual ms (each rank
 * is back, and its replicas refilled, before the next), time kills only.
 * Otherwise 5 time kills anywhere in the span plus 2 kills right after a
 * rank's k-th delivery, so several ranks may be down at once.
 */
function schedule(seed: number, size: number, span: number, spaced: boolean): KillSpec[] {
  const rnd = mulberry(seed * 7919 + 3);
  const kills: KillSpec[] = [];
  if (spaced) {
    for (let at = 2 + rnd() * 10; at < span; at += 30) {
      const rank = Math.floor(rnd() * size);
      const atMs = Math.round(at);
      kills.push({ rank, atMs, text: `${rank}@${atMs}ms` });
    }
    return kills;
  }
  for (let k = 0; k < 5; k++) {
    const rank = Math.floor(rnd() * size);
    const atMs = Math.round(1 + rnd() * (span - 1));
    kills.push({ rank, atMs, text: `${rank}@${atMs}ms` });
  }
  for (let k = 0; k < 2; k++) {
    const rank = Math.floor(rnd() * size);
    const atDeliveries = 1 + Math.floor(rnd() * 80);
    kills.push({ rank, atDeliveries, text: `${rank}@${atDeliveries}msgs` });
  }
  return kills;
}

const SPECS = [
  ["receiver-based pessimistic", "receiver-based-pessimistic.egida", false],
  ["Fig 4a sender-based (SBY)", "fig4a-sby.egida", false],
  ["Fig 4b f-replicated determinants (real replicated log)", "fig4b-f-replicated.egida", true],
] as const;

const SEEDS = Array.from({ length: 8 }, (_, i) => i + 1);
const SIZE = 4;

/** Per spec: crash runs, kills that fired, recoveries completed (incarnations > 0 that went live). */
const tally = new Map<string, { runs: number; kills: number; recovered: number }>();
function count(spec: string, run: { kills: number; recovered: number }): void {
  const t = tally.get(spec) ?? { runs: 0, kills: 0, recovered: 0 };
  t.runs++;
  t.kills += run.kills;
  t.recovered += run.recovered;
  tally.set(spec, t);
}
afterAll(() => {
  for (const [spec, t] of tally) console.log(`realhost ${spec}: ${t.runs} crash runs, ${t.kills} kills, ${t.recovered} recoveries`);
});

describe.each(SPECS)("real host: %s", (_title, file, spaced) => {
  const factory = composeFromIR(loadSpec(file, { checkpointIntervalMs: 20, flushIntervalMs: 5 }));
  const apps = {
    ring: () => tokenApp({ tokens: 1, hops: 150, origins: [0] }),
    mesh: () => tokenApp({ tokens: 3, hops: 50 }),
  };

  for (const [appName, mk] of Object.entries(apps)) {
    it.each(SEEDS)(`${appName}: seed %i, crashes match the failure-free run`, async (seed) => {
      const ref = await runRealJob({ factory, app: mk(), size: SIZE, seed });
      expect(ref.errors).toEqual([]);
      expect(ref.kills).toBe(0);
      const run = await runRealJob({ factory, app: mk(), size: SIZE, seed, kills: schedule(seed, SIZE, ref.time, spaced), restartDelayMs: 3 + (seed % 12) });
      count(file, run);
      expect(run.kills).toBeGreaterThan(0);
      if (spaced) expect(maxConcurrentDown(run.downtimes)).toBeLessThanOrEqual(1);
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
    });
  }

  // 5 ranks, 20 seeds; NFS-logged specs: twice the kills, restart delays 2–21 ms (ranks re-crash during their own recovery).
  it("stress: 5 ranks × 20 seeds (NFS-logged specs: re-crashes during recovery)", async () => {
    for (let seed = 600; seed < 620; seed++) {
      const mk = () => tokenApp({ tokens: 3, hops: 40 });
      const ref = await runRealJob({ factory, app: mk(), size: 5, seed });
      expect(ref.errors).toEqual([]);
      // Fig 4b (f = 1): one spaced schedule, restarts short enough that a rank is back before the next kill.
      const kills = spaced ? schedule(seed, 5, ref.time, true) : [...schedule(seed, 5, ref.time, false), ...schedule(seed + 1000, 5, ref.time, false)];
      const run = await runRealJob({ factory, app: mk(), size: 5, seed, kills, restartDelayMs: spaced ? 2 + (seed % 10) : 2 + (seed % 20) });
      count(file, run);
      if (spaced) expect(maxConcurrentDown(run.downtimes)).toBeLessThanOrEqual(1);
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
    }
  });

  it.each(SEEDS)("reading app: seed %i, read values replayed from the log", async (seed) => {
    const mk = () => readApp({ tokens: 2, hops: 40, env: counterEnv() });
    const ref = await runRealJob({ factory, app: mk(), size: SIZE, seed });
    expect(ref.errors).toEqual([]);
    const run = await runRealJob({ factory, app: mk(), size: SIZE, seed, kills: schedule(seed + 50, SIZE, ref.time, spaced), restartDelayMs: 3 + (seed % 12) });
    count(file, run);
    expect(run.kills).toBeGreaterThan(0);
    if (spaced) expect(maxConcurrentDown(run.downtimes)).toBeLessThanOrEqual(1);
    expect(run.errors).toEqual([]);
    expect(run.retractions).toEqual([]);
    expect(run.survivorRollbacks).toBe(0);
    expect(readProblems(run.states, run.outputs, SIZE)).toEqual([]);
    expect(run.states.map((s) => Object.keys(s.reads).sort())).toEqual(ref.states.map((s) => Object.keys(s.reads).sort()));
  });
});

describe("runSimJob with a failing protocol", () => {
  // In a child process: vitest reports unhandled rejections itself, whatever the code under test does.
  it("reports the failure instead of dying of the protocol's unhandled ReportedError rejections", () => {
    const script = fileURLToPath(new URL("./realhost-unhandled.ts", import.meta.url));
    const r = spawnSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).not.toMatch(/ReportedError/);
    // Beyond f the lost determinants are caught by the lost-log check (unrecoverable) or, failing that, at the sink (retraction).
    expect(r.stdout).toMatch(/job failure: (unrecoverable|retraction)/);
    expect(r.status).toBe(0);
  });
});
