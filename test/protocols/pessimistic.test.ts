/**
 * Pessimistic logging under injected crashes, on the simulated network with
 * memory storage: receiver-based (specs/receiver-based-pessimistic.egida),
 * Strom–Bacon–Yemini sender-based (Fig 4a) and the f-replicated variant
 * (Fig 4b). Each seed crashes random ranks at random times; the run must
 * match the failure-free run and no survivor may roll back.
 */
import { describe, expect, it } from "vitest";
import { runJob } from "./harness.js";
import { tokenApp } from "./apps.js";
import { expectSameAsFailureFree } from "./check.js";
import { loadSpec } from "./spec.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

/** [title, spec, concurrent failures tolerated by the storage (stable NFS: any; Fig 4b: f = 1)] */
const SPECS = [
  ["receiver-based pessimistic", "receiver-based-pessimistic.egida", 5],
  ["Fig 4a sender-based (SBY)", "fig4a-sby.egida", 5],
  ["Fig 4b f-replicated determinants", "fig4b-f-replicated.egida", 1],
] as const;

const SEEDS = Array.from({ length: 12 }, (_, i) => i + 1);

describe.each(SPECS)("%s", (_title, file, concurrent) => {
  // Short checkpoint interval so crashes land before, between and after checkpoints.
  const ir = loadSpec(file, { checkpointIntervalMs: 40, flushIntervalMs: 10 });
  const factory = composeFromIR(ir);
  const apps = {
    ring: () => tokenApp({ tokens: 1, hops: 60, origins: [0] }),
    mesh: () => tokenApp({ tokens: 3, hops: 25 }),
  };

  for (const [appName, mk] of Object.entries(apps)) {
    it(`${appName}: failure-free run completes`, async () => {
      const ref = await runJob({ factory, app: mk(), size: 4, seed: 1, crashes: 0 });
      expect(ref.errors).toEqual([]);
      expect(ref.done.every((d) => d)).toBe(true);
    });

    it.each(SEEDS)(`${appName}: seed %i, crashes match the failure-free run`, async (seed) => {
      const ref = await runJob({ factory, app: mk(), size: 4, seed, crashes: 0 });
      const run = await runJob({ factory, app: mk(), size: 4, seed, crashes: 3, crashWindow: [2, 150], maxConcurrent: 1 });
      expect(run.crashedRanks.length).toBeGreaterThan(0);
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
    });
  }

  // Many crashes, several at once when the storage allows it, re-crashes during recovery
  // (short restart delays), 5 ranks: 20 seeds × 8 crash attempts.
  it("stress: 20 seeds × 8 crashes, concurrent", async () => {
    let recovered = 0;
    for (let seed = 100; seed < 120; seed++) {
      const mk = () => tokenApp({ tokens: 3, hops: 30 });
      const ref = await runJob({ factory, app: mk(), size: 5, seed, crashes: 0 });
      const run = await runJob({
        factory,
        app: mk(),
        size: 5,
        seed,
        crashes: 8,
        crashWindow: [1, 200],
        maxConcurrent: concurrent,
        restartDelay: 3 + (seed % 20),
      });
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
      recovered += run.recovered;
    }
    expect(recovered).toBeGreaterThan(60);
  });
});
