/**
 * Causal message logging under injected crashes (blocks/causal/): family-based
 * logging with a dependency matrix (specs/family-based-causal.egida, f = 2) and
 * the hybrid protocol of Figure 3b (specs/fig3b-hybrid-causal.egida, f = 1),
 * plus both with the other f through the header. Crashes follow FBL's failure
 * model: a rank counts as failed from its crash until its recovery completes
 * (`failedUntilLive`), at most f at once; a failed rank may crash again.
 * Every run must match the failure-free run, and no survivor may roll back.
 * Beyond f: a schedule that provably loses a determinant a survivor depends
 * on must end in `unrecoverable`, and random f+1.. crashes never give a wrong result.
 */
import { decodeValue } from "../../runtime-core/src/host/value-codec.js";
import { describe, expect, it } from "vitest";
import type { ProtocolFactory, ProtocolHost } from "@egida/runtime-core/spi";
import type { ProtocolIR } from "../../compiler/src/ir/types.js";
import { runJob } from "./harness.js";
import { tokenApp } from "./apps.js";
import { expectSameAsFailureFree } from "./check.js";
import { loadSpec } from "./spec.js";
import { familyBased, fblCoordinated, hybrid, hybridCic, specFromText, stabilityMatrix, stabilityVector } from "./causal-spec.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

const OPTS = { checkpointIntervalMs: 40, flushIntervalMs: 10 };
/** [title, IR, f] */
const SPECS: [string, ProtocolIR, number][] = [
  ["family-based (dependency matrix), f = 2", loadSpec("family-based-causal.egida", OPTS), 2],
  ["Fig 3b hybrid, f = 1", loadSpec("fig3b-hybrid-causal.egida", OPTS), 1],
  ["family-based (dependency matrix), f = 1", specFromText(familyBased(1), OPTS), 1],
  ["Fig 3b hybrid, f = 2", specFromText(hybrid(2), OPTS), 2],
  ["family-based (stability vector), f = 2", loadSpec("fbl-stability-vector.egida", OPTS), 2],
  ["family-based (stability vector), f = 1", specFromText(stabilityVector(1), OPTS), 1],
  ["family-based (stability matrix), f = 2", loadSpec("fbl-stability-matrix.egida", OPTS), 2],
  ["family-based (stability matrix), f = 1", specFromText(stabilityMatrix(1), OPTS), 1],
  ["family-based, co-ordinated checkpoints, f = 2", specFromText(fblCoordinated(2), OPTS), 2],
  ["Fig 3b hybrid, communication-induced checkpoints, f = 1", specFromText(hybridCic(1), OPTS), 1],
];
const SEEDS = Array.from({ length: 8 }, (_, i) => i + 1);
const apps = {
  ring: () => tokenApp({ tokens: 1, hops: 60, origins: [0] }),
  mesh: () => tokenApp({ tokens: 3, hops: 25 }),
};

describe.each(SPECS)("%s", (_title, ir, f) => {
  const factory = composeFromIR(ir);
  expect(factory.defaultF).toBe(f);

  for (const [appName, mk] of Object.entries(apps)) {
    it.each(SEEDS)(`${appName}: seed %i, random crashes (≤ f failed at once) match the failure-free run`, async (seed) => {
      const ref = await runJob({ factory, app: mk(), size: 4, seed, crashes: 0 });
      const run = await runJob({ factory, app: mk(), size: 4, seed, crashes: 4, crashWindow: [2, 150], maxConcurrent: f, failedUntilLive: true });
      expect(run.crashedRanks.length).toBeGreaterThan(0);
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
    });
  }

  it("one rank crashes again and again, also during its own recovery (gather and replay)", async () => {
    const mk = apps.mesh;
    const ref = await runJob({ factory, app: mk(), size: 4, seed: 7, crashes: 0 });
    // Restart after 4 ms; re-crashes 1, 2.5 and 6 ms after a restart land in the gather round and in replay.
    const schedule = [10, 15, 30, 35.5, 60, 70, 74.2, 90].map((at) => ({ at, rank: 2 }));
    const run = await runJob({ factory, app: mk(), size: 4, seed: 7, crashes: 0, schedule, crashWindow: [0, 100], restartDelay: 4, failedUntilLive: true, maxConcurrent: f });
    expect(run.crashedRanks).toEqual([2]);
    expect(run.recovered).toBeGreaterThanOrEqual(2);
    expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
  });

  it("f ranks crash at the same instant, twice", async () => {
    const mk = apps.mesh;
    const ref = await runJob({ factory, app: mk(), size: 5, seed: 11, crashes: 0 });
    const victims = f === 1 ? [[3], [1]] : [[1, 3], [0, 4]];
    const schedule = [...victims[0]!.map((rank) => ({ at: 25, rank })), ...victims[1]!.map((rank) => ({ at: 80, rank }))];
    const run = await runJob({ factory, app: mk(), size: 5, seed: 11, crashes: 0, schedule, crashWindow: [0, 100], restartDelay: 6, failedUntilLive: true, maxConcurrent: f });
    expect(run.crashedRanks.length).toBe(2 * f);
    expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
  });

  // 5 ranks × 20 seeds × 8 crash attempts, restart delays 3–22 ms (re-crashes during recovery).
  it("stress: 20 seeds × 8 crashes, up to f failed at once", async () => {
    let recovered = 0;
    for (let seed = 100; seed < 120; seed++) {
      const mk = () => tokenApp({ tokens: 3, hops: 30 });
      const ref = await runJob({ factory, app: mk(), size: 5, seed, crashes: 0 });
      const run = await runJob({ factory, app: mk(), size: 5, seed, crashes: 8, crashWindow: [1, 200], maxConcurrent: f, failedUntilLive: true, restartDelay: 3 + (seed % 20) });
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
      recovered += run.recovered;
    }
    expect(recovered).toBeGreaterThan(60);
  });
});

interface Delivery {
  t: number;
  rank: number;
  from: number;
  hops: number;
}

/** Wrap a factory to record every live delivery (virtual time, rank, sender, token hop). */
function recording(base: ProtocolFactory, log: Delivery[]): ProtocolFactory {
  return {
    protocolName: base.protocolName,
    defaultF: base.defaultF,
    create(host: ProtocolHost) {
      const h: ProtocolHost = {
        ...host,
        deliver: async (from, payload, o) => {
          log.push({ t: host.timers.now(), rank: host.rank, from, hops: (decodeValue(payload) as { hops: number }).hops });
          await host.deliver(from, payload, o);
        },
      };
      return base.create(h);
    },
  };
}

describe("beyond f", () => {
  it("f = 1, dependency matrix: crashing a and b after the token went a → b → c loses a's determinant; c depends on it → unrecoverable", async () => {
    // No checkpoint covers the deliveries (interval 10 s). The token's delivery at a does not
    // write (hops % 3 ≠ 0), so no output commit pushed a's determinant anywhere: it went
    // piggybacked to b only; b counted it held by f + 1 = 2 (a and b) and sent the token on to c
    // without it, so c depends on it and holds nothing. Crash a and b right after c's delivery.
    const ir = specFromText(familyBased(1), { checkpointIntervalMs: 10_000, flushIntervalMs: 10 });
    const log: Delivery[] = [];
    const mk = () => tokenApp({ tokens: 1, hops: 60, origins: [0] });
    const ref = await runJob({ factory: recording(composeFromIR(ir), log), app: mk(), size: 4, seed: 3, crashes: 0 });
    expect(ref.errors).toEqual([]);
    let pick: { at: number; a: number; b: number } | undefined;
    for (let i = 12; i < log.length && pick === undefined; i++) {
      const [da, db, dc] = [log[i - 2]!, log[i - 1]!, log[i]!];
      if (da.hops % 3 !== 0 && db.from === da.rank && dc.from === db.rank && new Set([da.rank, db.rank, dc.rank]).size === 3) {
        pick = { at: dc.t + 0.01, a: da.rank, b: db.rank };
      }
    }
    expect(pick).toBeDefined();
    const { at, a, b } = pick!;
    const run = await runJob({
      factory: composeFromIR(ir),
      app: mk(),
      size: 4,
      seed: 3,
      crashes: 0,
      schedule: [
        { at, rank: a },
        { at, rank: b },
      ],
      crashWindow: [0, at + 1],
      restartDelay: 5,
      maxConcurrent: 2,
    });
    expect(run.errors.some((e) => /unrecoverable: .*held by no live process, but a live process depends/.test(e))).toBe(true);
    expect(run.retractions).toEqual([]);
  });

  // More than f failed at once, random: every run either matches the failure-free run or stops
  // with `unrecoverable`; never a wrong state, a lost or duplicated delivery, or a retracted output.
  it.each([
    ["family-based f = 1, up to 3 failed", familyBased(1), 3],
    ["hybrid f = 1, up to 3 failed", hybrid(1), 3],
    ["family-based f = 2, up to 4 failed", familyBased(2), 4],
    ["stability vector f = 2, up to 4 failed", stabilityVector(2), 4],
    ["stability matrix f = 2, up to 4 failed", stabilityMatrix(2), 4],
  ])("%s: correct or unrecoverable, never wrong", async (_t, text, conc) => {
    const factory = composeFromIR(specFromText(text, OPTS));
    for (let seed = 200; seed < 230; seed++) {
      const mk = () => tokenApp({ tokens: 3, hops: 30 });
      const ref = await runJob({ factory, app: mk(), size: 5, seed, crashes: 0 });
      const run = await runJob({ factory, app: mk(), size: 5, seed, crashes: 10, crashWindow: [1, 200], maxConcurrent: conc, failedUntilLive: true, restartDelay: 3 + (seed % 20) });
      expect(run.retractions).toEqual([]);
      if (run.errors.length > 0) {
        expect(run.errors.every((e) => e.includes("unrecoverable"))).toBe(true);
      } else expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
    }
    // 30 seeds of 5 ranks: ~15 s on an idle machine, over 60 s on the shared 2-core one.
  }, 180_000);
});
