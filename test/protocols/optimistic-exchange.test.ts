/**
 * Optimistic logging with `exchange vector clock` orphan detection
 * (specs/optimistic-exchange-vc.egida; optimistic/exchange.ts): nobody
 * broadcasts incarnation ends after a failure; a process pulls them
 * (TAG_OPT_PULL) from the processes its vector clock depends on and from the
 * sender of an incarnation it does not know, and the answer is the token.
 *
 * Same application and final-state checks as optimistic.test.ts
 * (stamp-app.ts), on the simulated network with memory storage. Every control
 * frame is counted per tag by wrapping the transport: a token that was not an
 * answer to a pull would be a broadcast.
 */
import { describe, expect, it } from "vitest";
import type { ProtocolFactory, ProtocolHost } from "@egida/runtime-core/spi";
import { kernelOf } from "../../compiler/src/blocks/compose.js";
import { TAG_OPT_PULL, TAG_OPT_TOKEN } from "../../compiler/src/blocks/tags.js";
import { runJob, type JobResult } from "./harness.js";
import { expectSameAsFailureFree } from "./check.js";
import { loadSpec } from "./spec.js";
import { counterEnv } from "./read-app.js";
import { expectConsistent, stampApp, type StampState } from "./stamp-app.js";
import { composeFromIR, selectForIR } from "../../compiler/src/dev/select-ir.js";

const SPEC = "optimistic-exchange-vc.egida";

/** Control frames sent, by tag (control frames only: kind 2). */
function counting(factory: ProtocolFactory): { factory: ProtocolFactory; sent: Map<number, number> } {
  const sent = new Map<number, number>();
  return {
    sent,
    factory: {
      ...factory,
      create(host: ProtocolHost) {
        const t = host.transport;
        const transport = Object.create(t, {
          send: {
            value: (to: number, f: Parameters<ProtocolHost["transport"]["send"]>[1]) => {
              if ((f.kind as number) === 2) sent.set(f.tag, (sent.get(f.tag) ?? 0) + 1);
              return t.send(to, f);
            },
          },
        }) as ProtocolHost["transport"];
        return factory.create(Object.create(host, { transport: { value: transport } }) as ProtocolHost);
      },
    },
  };
}

const rollbacks = (run: JobResult<StampState>): number => run.trace.filter((e) => e.type === "rollback").length;

describe("optimistic logging, exchange vector clock (specs/optimistic-exchange-vc.egida)", () => {
  it("selection: optimistic/exchange first, exchange-finish after finish, collect and rollback send no token", () => {
    const files = (f: string) => selectForIR(loadSpec(f)).map((b) => b.file);
    const ex = files(SPEC);
    expect(ex[0]).toBe("optimistic/exchange.ts");
    expect(ex.indexOf("optimistic/exchange-finish.ts")).toBe(ex.indexOf("optimistic/finish.ts") + 1);
    expect(selectForIR(loadSpec(SPEC)).find((b) => b.file === "optimistic/collect.ts")?.params).toEqual({ "opt.broadcast": false });
    const bc = selectForIR(loadSpec("optimistic-checkpointed.egida"));
    expect(bc.some((b) => b.file.startsWith("optimistic/exchange"))).toBe(false);
    expect(bc.find((b) => b.file === "optimistic/collect.ts")?.params).toEqual({ "opt.broadcast": true });
  });

  const mesh = () => stampApp({ tokens: 3, hops: 25, writeEvery: 5 });

  it("failure-free: no pull answered with a lost state, no rollback, no token unasked", async () => {
    const c = counting(composeFromIR(loadSpec(SPEC, { flushIntervalMs: 100 })));
    const run = await runJob({ factory: c.factory, app: mesh(), size: 4, seed: 1, crashes: 0 });
    expect(run.errors).toEqual([]);
    expect(run.done.every((d) => d)).toBe(true);
    expect(rollbacks(run)).toBe(0);
    expect(c.sent.get(TAG_OPT_TOKEN) ?? 0).toBeLessThanOrEqual(c.sent.get(TAG_OPT_PULL) ?? 0);
    expectConsistent(run, false);
  });

  it.each([1, 2, 3, 4])("mesh: seed %i, 3 crashes match the failure-free run", async (seed) => {
    const factory = composeFromIR(loadSpec(SPEC, { flushIntervalMs: 100, checkpointIntervalMs: 8 }));
    const ref = await runJob({ factory, app: mesh(), size: 4, seed, crashes: 0 });
    const run = await runJob({ factory, app: mesh(), size: 4, seed, crashes: 3, crashWindow: [2, 150], maxConcurrent: 1 });
    expect(run.crashedRanks.length).toBeGreaterThan(0);
    expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
    expectConsistent(run, false);
    // Every gate opened: every peer acknowledged every table it learned (pulled, or from a third party).
    for (const p of run.protocols) expect([...kernelOf(p).optAwait]).toEqual([0, 0, 0, 0]);
  });

  // The constructed orphan of optimistic.test.ts: one token circulates, no flush (1 s) and no
  // write (hop 40) before the crash at 30 ms, so the victim's deliveries are unlogged and the rank
  // it forwarded to depends on a lost state. Nobody announces the victim's end: the survivors
  // must find it by pulling (on their flush tick, or when the victim's new incarnation speaks),
  // and every token sent must be an answer to a pull.
  it.each([1, 2, 3, 4, 5, 6])("constructed orphan found by pull, not broadcast (seed %i)", async (seed) => {
    const mk = () => stampApp({ tokens: 1, hops: 60, writeEvery: 40, origins: [0] });
    const ref = await runJob({ factory: composeFromIR(loadSpec(SPEC, { flushIntervalMs: 1000 })), app: mk(), size: 4, seed, crashes: 0 });
    const c = counting(composeFromIR(loadSpec(SPEC, { flushIntervalMs: 1000 })));
    const run = await runJob({ factory: c.factory, app: mk(), size: 4, seed, crashes: 1, crashWindow: [30, 30], maxConcurrent: 1 });
    expect(run.crashedRanks.length).toBe(1);
    const victim = run.crashedRanks[0]!;
    expect(run.trace.some((e) => e.type === "rollback" && e.rank !== victim)).toBe(true);
    expect(run.survivorRollbacks).toBeGreaterThan(0);
    const pulls = c.sent.get(TAG_OPT_PULL) ?? 0;
    expect(pulls).toBeGreaterThan(0);
    expect(c.sent.get(TAG_OPT_TOKEN) ?? 0).toBeLessThanOrEqual(pulls);
    expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
    expectConsistent(run, false);
  });

  it("stress that reads: 4 seeds × 8 crashes, up to 3 concurrent", async () => {
    const factory = composeFromIR(loadSpec(SPEC, { flushIntervalMs: 100, checkpointIntervalMs: 10 }));
    let rolled = 0;
    for (let seed = 300; seed < 304; seed++) {
      const mk = () => stampApp({ tokens: 3, hops: 30, writeEvery: 4, env: counterEnv() });
      const ref = await runJob({ factory, app: mk(), size: 5, seed, crashes: 0 });
      const run = await runJob({ factory, app: mk(), size: 5, seed, crashes: 8, crashWindow: [1, 200], maxConcurrent: 3, restartDelay: 3 + (seed % 20) });
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
      expectConsistent(run, false);
      rolled += rollbacks(run);
    }
    expect(rolled).toBeGreaterThan(0);
  });
});
