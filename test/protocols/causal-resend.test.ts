/**
 * A lost retransmission request under causal logging (the hole
 * collect/stable-log closed for pessimistic logging): rank 2 crashes right
 * after a checkpoint (so its replay needs nothing from rank 1) while rank 1's
 * message to it is in flight; recovering, it asks rank 1 to resend
 * (TAG_RECOVER), and rank 1 crashes before that request is handled. Rank 1's
 * next incarnation holds the lost message in the retransmission buffer its
 * checkpoint restored, but rank 2 is live and never asks again. Before
 * causal/gather resent from the restored buffer on rank 2's answer to rank 1's
 * own TAG_RECOVER, this schedule hung (and so did steps 121-124, and nth 2 at
 * steps 209-215, on the same seed: the scan and its numbers are in docs/protocols.md).
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

describe("causal logging: a sender that dies before answering a recovering receiver's retransmission request", () => {
  it("resends from its restored buffer when the receiver answers its own recovery (jacobi, seed 7)", async () => {
    const a = findApp("jacobi");
    const app = await loadConformanceApp(a);
    const schedule = [{ rank: 2, when: "after-checkpoint", nth: 1 } as const, { rank: 1, atStep: 120 }];
    // The composer's factory is typed against the published spi, the harness against the source (same objects).
    const protocol = composeFromIR(loadSpec("family-based-causal.egida", CAMPAIGN_OPTIONS)) as unknown as ProtocolFactory;
    const r = await runSimJob({ protocol, app, size: a.size, seed: 7, schedule, args: a.args, restartDelayMs: [2, 2.001], maxSteps: 100_000 });
    expect(r.crashes.map((c) => c.rank)).toEqual([2, 1]);
    expect(r.hang).toBeNull();
    expect(r.finished).toBe(true);
    const reference = await runSimJob({ protocol: noneProtocol, app, size: a.size, seed: 1, schedule: [], args: a.args });
    expect(await checkRun(r, { app, args: a.args, orderDeterministic: a.orderDeterministic, family: "causal", reference, boundedStorage: false })).toEqual([]);
  });
});
