/**
 * `Piggyback determinants, stability matrix` (causal/det-log, causal/stability
 * causalSmAdvance): what the matrix buys and what it must never claim.
 *
 * - Pruning: with f = 2 and no output commit and no checkpoint (timers frozen,
 *   the app never writes), nothing else ever makes a determinant stable. Without
 *   tracking (`Piggyback determinants`) a process can count only the owner and
 *   itself as holders, so every message carries every determinant of the run
 *   (the piggyback grows with the run); with the matrix, f + 1 rows soon cover
 *   a determinant and it stops travelling, so the piggyback stays bounded.
 * - Entries as they change: a message carries only the entries that grew
 *   since the last message to that destination, far below the n × n words of
 *   a full matrix.
 * - Rows are contiguous holdings: a row that covered a determinant its process
 *   does not hold would let a determinant stop travelling too early; the
 *   crash tests of causal.test.ts (both f) and the reading app below catch it.
 */
import { describe, expect, it } from "vitest";
import { runJob } from "./harness.js";
import { tokenApp } from "./apps.js";
import { expectSameAsFailureFree } from "./check.js";
import { counterEnv, expectReadsRecovered, readApp } from "./read-app.js";
import { specFromText, stabilityMatrix } from "./causal-spec.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

/** No timer fires during the run: neither flush nor checkpoint. */
const FROZEN = { flushIntervalMs: 1e9, checkpointIntervalMs: 1e9 };

function pbPerMessage(run: Awaited<ReturnType<typeof runJob>>): number {
  let bytes = 0;
  let messages = 0;
  for (const p of run.protocols) {
    const st = p.stats();
    bytes += st.piggybackBytes;
    messages += st.messages;
  }
  return bytes / messages;
}

describe("stability matrix, f = 2, timers frozen, no output", () => {
  const sm = composeFromIR(specFromText(stabilityMatrix(2), FROZEN));
  const untracked = composeFromIR(specFromText(stabilityMatrix(2).replace("Piggyback determinants, stability matrix", "Piggyback determinants"), FROZEN));
  const app = (hops: number) => tokenApp({ tokens: 2, hops, writeEvery: 0 });

  it("determinants stop travelling once f + 1 rows cover them: the piggyback stays bounded (untracked too: each travels once to each destination)", async () => {
    const short = await runJob({ factory: sm, app: app(100), size: 4, seed: 2, crashes: 0, maxTime: 1e7 });
    const long = await runJob({ factory: sm, app: app(400), size: 4, seed: 2, crashes: 0, maxTime: 1e7 });
    const plain = await runJob({ factory: untracked, app: app(200), size: 4, seed: 2, crashes: 0, maxTime: 1e7 });
    for (const r of [short, long, plain]) {
      expect(r.errors).toEqual([]);
      expect(r.done).toEqual([true, true, true, true]);
    }
    const [s, l, p] = [pbPerMessage(short), pbPerMessage(long), pbPerMessage(plain)];
    // 8 tokens in flight on 4 ranks: ~260 bytes a message (a determinant is 16), whatever the length.
    expect(l).toBeLessThan(400);
    // Four times the run (3,200 messages), about the same per message.
    expect(l).toBeLessThan(s * 1.2);
    // Untracked, no row tells a sender what its destination holds, but a determinant put on a message
    // to it is not put on the next (causal/det-log cdQTold): bounded too, not hundreds a message.
    expect(p).toBeLessThan(400);
  }, 120_000);

  it("a crash mid-run still recovers from the peers' logs alone (nothing was ever checkpointed or pushed)", async () => {
    const mk = () => app(100);
    const ref = await runJob({ factory: sm, app: mk(), size: 4, seed: 4, crashes: 0, maxTime: 1e7 });
    const run = await runJob({ factory: sm, app: mk(), size: 4, seed: 4, crashes: 0, schedule: [{ at: 40, rank: 1 }, { at: 40, rank: 3 }, { at: 120, rank: 2 }], restartDelay: 5, failedUntilLive: true, maxConcurrent: 2, maxTime: 1e7 });
    expect([...run.crashedRanks].sort()).toEqual([1, 2, 3]);
    expect(run.recovered).toBe(3);
    expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
  }, 120_000);
});

describe("stability matrix with `read:` determinants", () => {
  for (const f of [1, 2]) {
    const factory = composeFromIR(specFromText(stabilityMatrix(f), { checkpointIntervalMs: 40, flushIntervalMs: 10 }));
    it.each([1, 2, 3, 4, 5])(`f = ${f}, seed %i: read values come back from the peers; tokens agree with the recovered reads`, async (seed) => {
      const mk = () => readApp({ tokens: 2, hops: 40, env: counterEnv() });
      const ref = await runJob({ factory, app: mk(), size: 4, seed, crashes: 0 });
      const run = await runJob({ factory, app: mk(), size: 4, seed, crashes: 4, crashWindow: [2, 120], maxConcurrent: f, failedUntilLive: true });
      expectReadsRecovered(run, ref, 4);
    });
  }
});
