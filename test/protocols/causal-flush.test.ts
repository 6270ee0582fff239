/**
 * Fig 3b's size-triggered flush (causal/stable-dets): with the flush timer
 * frozen (a period far beyond the run), the stable determinant log is still
 * flushed every `causal.flushAt` deliveries, so the determinants piggybacked
 * per message stay bounded however long the run is. With the timer alone
 * every message of such a run piggybacks every determinant since the start
 * (the average grows with the run's length). The apps never write: an
 * output commit flushes the log too.
 */
import { describe, expect, it } from "vitest";
import { runJob } from "./harness.js";
import { tokenApp } from "./apps.js";
import { expectSameAsFailureFree } from "./check.js";
import { loadSpec } from "./spec.js";
import { hybrid, specFromText } from "./causal-spec.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

/** No timer fires during the run: neither flush nor checkpoint. */
const FROZEN = { flushIntervalMs: 1e9, checkpointIntervalMs: 1e9 };
/** FLUSH_AT of blocks/facts/causal.ts. */
const FLUSH_AT = 64;

function pbPerMessage(run: Awaited<ReturnType<typeof runJob>>): { bytes: number; messages: number } {
  let bytes = 0;
  let messages = 0;
  for (const p of run.protocols) {
    const st = p.stats();
    bytes += st.piggybackBytes;
    messages += st.messages;
  }
  return { bytes, messages };
}

describe.each([
  ["Fig 3b hybrid, f = 1", loadSpec("fig3b-hybrid-causal.egida", FROZEN)],
  ["Fig 3b hybrid, f = 2", specFromText(hybrid(2), FROZEN)],
])("%s, flush timer frozen", (_title, ir) => {
  const factory = composeFromIR(ir);

  it("piggyback per message stays bounded over a long failure-free run", async () => {
    // 3 ranks × 2 tokens × 1500 hops = 9000 deliveries, ~3000 per rank: without the size trigger the
    // average message would carry ~1000 own determinants (16 bytes each) and more of the others'.
    const run = await runJob({ factory, app: tokenApp({ tokens: 2, hops: 1500, writeEvery: 0 }), size: 3, seed: 3, crashes: 0, maxTime: 1e7 });
    expect(run.errors).toEqual([]);
    expect(run.done).toEqual([true, true, true]);
    const { bytes, messages } = pbPerMessage(run);
    expect(messages).toBeGreaterThanOrEqual(9000);
    // Own unflushed determinants stay below FLUSH_AT plus one flush in flight; the others' are dropped once their owner's flush is announced.
    expect(bytes / messages).toBeLessThan(3 * FLUSH_AT * 16);
  });

  it("a crash recovers from size-triggered flushes alone (stable log prefix + gathered tail)", async () => {
    const mk = () => tokenApp({ tokens: 2, hops: 400, writeEvery: 0 });
    const ref = await runJob({ factory, app: mk(), size: 3, seed: 5, crashes: 0, maxTime: 1e7 });
    const run = await runJob({ factory, app: mk(), size: 3, seed: 5, crashes: 0, schedule: [{ at: 60, rank: 1 }, { at: 160, rank: 2 }], restartDelay: 5, failedUntilLive: true, maxConcurrent: 1, maxTime: 1e7 });
    expect(run.crashedRanks).toEqual([1, 2]);
    expect(run.recovered).toBe(2);
    expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
  });
});
