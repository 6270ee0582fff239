/**
 * Causal logging with co-ordinated or communication-induced checkpoints
 * (checkpoint/schedule.ts before the causal blocks; causal/gather scans the
 * piggyback after the index word). Recovery stays local (own checkpoint plus
 * the peers' logs); the schedule decides when checkpoints are taken: a
 * message with a higher index forces one before it is delivered, and with
 * co-ordinated checkpoints rank 0 starts the rounds. The crash tests of
 * causal.test.ts run both specs; here: the selection, and that the schedule
 * takes checkpoints on every rank (co-ordinated: ranks other than 0 have no
 * timer of their own).
 */
import { describe, expect, it } from "vitest";
import { runJob } from "./harness.js";
import { tokenApp } from "./apps.js";
import { expectSameAsFailureFree } from "./check.js";
import { fblCoordinated, hybridCic, specFromText } from "./causal-spec.js";
import { composeFromIR, selectForIR } from "../../compiler/src/dev/select-ir.js";

const OPTS = { checkpointIntervalMs: 15, flushIntervalMs: 10 };

describe.each([
  ["family-based, co-ordinated checkpoints, f = 2", fblCoordinated(2), 2],
  ["Fig 3b hybrid, communication-induced checkpoints, f = 1", hybridCic(1), 1],
] as const)("%s", (_t, text, f) => {
  const ir = specFromText(text, OPTS);
  const factory = composeFromIR(ir);
  const mk = () => tokenApp({ tokens: 3, hops: 60 });

  it("selects checkpoint/schedule before the causal blocks, and gather scans after the index word", () => {
    const files = selectForIR(ir).map((b) => b.file);
    expect(files.indexOf("checkpoint/schedule.ts")).toBeGreaterThan(-1);
    expect(files.indexOf("checkpoint/schedule.ts")).toBeLessThan(files.indexOf("causal/det-log.ts"));
    expect(selectForIR(ir).find((b) => b.file === "causal/gather.ts")!.params["causal.pbAt"]).toBe(2);
  });

  it("the schedule takes the checkpoints; a crash run matches the failure-free run", async () => {
    const ref = await runJob({ factory, app: mk(), size: 4, seed: 5, crashes: 0 });
    const per = [0, 1, 2, 3].map((r) => ref.trace.filter((e) => e.type === "checkpoint" && e.rank === r).length);
    // Co-ordinated: only rank 0 has a checkpoint timer; the others checkpoint on its rounds (or forced
    // by a message of a later round). Communication-induced: every rank's timer, plus forced ones.
    for (const c of per) expect(c).toBeGreaterThanOrEqual(2);
    const run = await runJob({ factory, app: mk(), size: 4, seed: 5, crashes: 4, crashWindow: [5, 150], maxConcurrent: f, failedUntilLive: true });
    expect(run.crashedRanks.length).toBeGreaterThan(0);
    expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
  });
});
