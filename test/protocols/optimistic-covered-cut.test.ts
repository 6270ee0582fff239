/**
 * Optimistic logging with checkpoints: a crash right after a checkpoint whose
 * capture followed a rollback, before the log is truncated at that capture.
 * The log still holds the rolled-back incarnation's delivery records, and the
 * CUT that voided them is older than the checkpoint (its incarnation is
 * covered), so recovery used to skip the CUT but keep the records whose
 * timestamps exceed the checkpoint's: the replay plan then re-delivered a
 * message the checkpoint's delivered vector already held ("replay plan
 * expects ssn 15 from 3 but the channel is at 15"). Found by the
 * lost-retransmission-request scan (docs/protocols.md): 5 of 966 schedules
 * (rank 1 or 2 at a step, the other after its 2nd checkpoint) on jacobi seed 7.
 */
import { describe, expect, it } from "vitest";
import { loadSpec } from "./spec.js";
import { findApp, loadConformanceApp } from "../conformance/apps.js";
import { runSimJob } from "../conformance/harness.js";
import { checkRun } from "../conformance/oracles.js";
import { CAMPAIGN_OPTIONS } from "../conformance/protocols.js";
import { noneProtocol } from "../../runtime-core/src/protocols/none.js";
import type { ProtocolFactory } from "../../runtime-core/src/spi.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

describe("optimistic logging: a CUT older than the restored checkpoint", () => {
  it("still voids the rolled-back records logged before it (jacobi, seed 7)", async () => {
    const a = findApp("jacobi");
    const app = await loadConformanceApp(a);
    // Rank 1's crash makes rank 2 an orphan: it rolls back (CUT), checkpoints, and crashes right after.
    const schedule = [{ rank: 1, atStep: 142 }, { rank: 2, when: "after-checkpoint", nth: 2 } as const];
    // The composer's factory is typed against the published spi, the harness against the source (same objects).
    const protocol = composeFromIR(loadSpec("optimistic-checkpointed.egida", CAMPAIGN_OPTIONS)) as unknown as ProtocolFactory;
    const r = await runSimJob({ protocol, app, size: a.size, seed: 7, schedule, args: a.args, restartDelayMs: [2, 2.001], maxSteps: 100_000 });
    expect(r.crashes.map((c) => c.rank)).toEqual([1, 2]);
    expect(r.trace.some((t) => t.type === "rollback" && t.rank === 2 && /orphan/.test(t.reason))).toBe(true);
    expect(r.unrecoverable).toBeNull();
    expect(r.finished).toBe(true);
    const reference = await runSimJob({ protocol: noneProtocol, app, size: a.size, seed: 1, schedule: [], args: a.args });
    expect(await checkRun(r, { app, args: a.args, orderDeterministic: a.orderDeterministic, family: "optimistic", reference, boundedStorage: false })).toEqual([]);
  });
});
