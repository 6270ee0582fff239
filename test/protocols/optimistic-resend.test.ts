/**
 * A lost retransmission request under optimistic logging (`exchange vector
 * clock`; the hole collect/stable-log and causal/gather closed for the other
 * families). all-to-all, seed 3: rank 2 crashes in round 0 before delivering
 * rank 3's message, rank 1 crashes at its third delivery; recovering, rank 2
 * asks rank 3 to resend (TAG_RECOVER), and rank 3 crashes at 10 ms with that
 * request in flight. Rank 3's next incarnation restores the message in the
 * retransmission buffer of its checkpoint, but rank 2 is live and never asks
 * again: every rank then waits for round-0 or round-1 messages that nobody
 * sends (the stall egida-run's detector caught on real processes). Now rank 3
 * resends what rank 2's answer to its own TAG_RECOVER says it lacks
 * (optimistic/gate.ts).
 */
import { describe, expect, it } from "vitest";
import { loadSpec } from "./spec.js";
import { findApp, loadConformanceApp } from "../conformance/apps.js";
import { runSimJob } from "../conformance/harness.js";
import { checkRun } from "../conformance/oracles.js";
import { CAMPAIGN_OPTIONS } from "../conformance/protocols.js";
import { noneProtocol } from "../../runtime-core/src/protocols/none.js";
import type { ProtocolFactory } from "../../runtime-core/src/spi.js";
import type { CrashSchedule } from "../conformance/schedule.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

describe("optimistic logging: a sender that dies before answering a recovering receiver's retransmission request", () => {
  it("resends from its restored buffer when the receiver answers its own recovery (all-to-all, seed 3)", async () => {
    const a = findApp("all-to-all");
    const app = await loadConformanceApp(a);
    const schedule: CrashSchedule = [
      { rank: 2, atStep: 7 },
      { rank: 1, atDelivery: 3 },
      { rank: 3, atTime: 10 },
    ];
    // The composer's factory is typed against the published spi, the harness against the source (same objects).
    const protocol = composeFromIR(loadSpec("optimistic-exchange-vc.egida", CAMPAIGN_OPTIONS)) as unknown as ProtocolFactory;
    const r = await runSimJob({ protocol, app, size: a.size, seed: 3, schedule, args: a.args, maxTimeMs: 2000 });
    expect(r.crashes.map((c) => c.rank)).toEqual([2, 1, 3]);
    expect(r.hang).toBeNull();
    expect(r.finished).toBe(true);
    const reference = await runSimJob({ protocol: noneProtocol, app, size: a.size, seed: 1, schedule: [], args: a.args });
    expect(await checkRun(r, { app, args: a.args, orderDeterministic: a.orderDeterministic, family: "optimistic", reference, boundedStorage: false })).toEqual([]);
  });
});
