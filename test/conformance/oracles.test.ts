/**
 * The oracles can fail: `none` (no recovery) must be caught under crashes,
 * and must pass without them; hand-made defects in a good run are each
 * caught by the oracle meant for them; shrinking keeps the failure.
 */
import { describe, expect, it } from "vitest";
import { noneProtocol } from "../../runtime-core/src/protocols/none.js";
import { CONFORMANCE_APPS, findApp, loadConformanceApp } from "./apps.js";
import { canonicalOf } from "./canon.js";
import { runSimJob, type JobResult } from "./harness.js";
import { checkExactlyOnce, checkFamily, checkOutcome, checkOutputs, checkRun, type Violation } from "./oracles.js";
import { discoverProtocols } from "./protocols.js";
import { parseSchedule, type CrashSchedule } from "./schedule.js";
import { shrinkSchedule } from "./shrink.js";
import { addToTally, emptyTally, livenessBoundMs } from "./campaign.js";

async function noneRun(appName: string, seed: number, schedule: CrashSchedule): Promise<{ result: JobResult; violations: Violation[] }> {
  const a = findApp(appName);
  const app = await loadConformanceApp(a);
  const reference = await runSimJob({ protocol: noneProtocol, app, size: a.size, seed: 1, schedule: [], args: a.args });
  const result = await runSimJob({ protocol: noneProtocol, app, size: a.size, seed, schedule, args: a.args });
  const violations = await checkRun(result, { app, args: a.args, orderDeterministic: a.orderDeterministic, family: "none", reference });
  return { result, violations };
}

describe("oracles against the none protocol", () => {
  it.each(CONFORMANCE_APPS.map((a) => a.name))("%s: no crash, no violation (3 seeds)", async (name) => {
    for (const seed of [1, 2, 3]) {
      const { result, violations } = await noneRun(name, seed, []);
      expect(result.finished).toBe(true);
      expect(violations).toEqual([]);
    }
  });

  it.each(CONFORMANCE_APPS.map((a) => a.name))("%s: crashes are caught (none keeps nothing)", async (name) => {
    const schedules: CrashSchedule[] = [[{ rank: 1, atStep: 20 }], [{ rank: 0, atDelivery: 2 }], [{ rank: 2, when: "after-output", nth: 1 }]];
    for (const s of schedules) {
      const { result, violations } = await noneRun(name, 5, s);
      if (result.counts.crashes === 0) continue; // the trigger never came (e.g. the rank had no second delivery)
      expect(violations.length, `${name} ${JSON.stringify(s)}`).toBeGreaterThan(0);
    }
  });

  it("a crash after the output is caught as a duplicated output, not just a hang", async () => {
    // writer: rank 2, re-initialized by none, writes step 0 again under a new seq and finishes: silently wrong.
    const { result, violations } = await noneRun("writer", 4, [{ rank: 2, when: "after-output", nth: 1 }]);
    expect(result.counts.crashes).toBe(1);
    expect(result.finished).toBe(true);
    expect(violations.some((v) => v.oracle === "outputs")).toBe(true);
    expect(violations.some((v) => v.oracle === "reference")).toBe(true);
  });

  it("beyond tolerance, a hang is reported as the missing `unrecoverable:`", async () => {
    const { result, violations } = await noneRun("token-ring", 3, [{ rank: 1, atStep: 40 }]);
    expect(result.maxConcurrent).toBeGreaterThan(result.f);
    expect(violations.some((v) => v.oracle === "outcome" && v.message.includes("unrecoverable"))).toBe(true);
  });

  it("liveness is an oracle: a run that goes idle unfinished, or outlives its bound, is stalled and counted", async () => {
    const idle = await noneRun("token-ring", 3, [{ rank: 1, atStep: 40 }]);
    expect(idle.result.hang).toMatch(/^stalled \(deadlock\)/);
    const t = emptyTally();
    addToTally(t, { protocol: "none", backend: "builtin", app: "token-ring", seed: 3, kind: "given", schedule: [], result: idle.result, violations: idle.violations });
    expect(t.stalls).toBe(1);
    // The bound grows with the crashes in the schedule and with the failure-free length.
    expect(livenessBoundMs(100, [{ rank: 1, atStep: 5 }, { rank: 2, atStep: 9 }])).toBeGreaterThan(livenessBoundMs(100, [{ rank: 1, atStep: 5 }]));
    expect(livenessBoundMs(1000, [])).toBeGreaterThan(livenessBoundMs(100, []));
    // A live run cut short by its bound is "stalled", with the bound in the message.
    // (token-ring takes about 24 virtual ms failure-free; the harness checks the bound every 10.)
    const a = findApp("token-ring");
    const slow = await runSimJob({ protocol: noneProtocol, app: await loadConformanceApp(a), size: a.size, seed: 2, schedule: [], args: a.args, maxTimeMs: 5 });
    expect(slow.finished).toBe(false);
    expect(slow.hang).toMatch(/^stalled: not finished within the liveness bound of 5 virtual ms/);
    expect(checkOutcome(slow).length).toBe(1);
  });

  it("shrinking keeps a failing schedule failing and drops the crashes it does not need", async () => {
    const fails = async (s: CrashSchedule): Promise<boolean> => (await noneRun("writer", 4, s)).violations.length > 0;
    const start: CrashSchedule = [{ rank: 3, atTime: 1000 }, { rank: 2, atStep: 60 }, { rank: 0, atTime: 2000 }];
    expect(await fails(start)).toBe(true);
    const { schedule } = await shrinkSchedule(start, fails);
    expect(schedule.length).toBe(1);
    expect(await fails(schedule)).toBe(true);
    const s0 = schedule[0]!;
    expect("atStep" in s0 && s0.atStep <= 60).toBe(true);
  });
});

describe("oracles on hand-made defects", () => {
  async function goodRun(): Promise<JobResult> {
    const a = findApp("all-to-all");
    return runSimJob({ protocol: noneProtocol, app: await loadConformanceApp(a), size: a.size, seed: 2, schedule: [], args: a.args });
  }

  it("a duplicated delivery breaks exactly-once", async () => {
    const r = await goodRun();
    expect(checkExactlyOnce(r)).toEqual([]);
    const steps = r.histories[1]!.steps;
    const dup = steps.find((s) => s.from === 0)!;
    steps.push({ ...dup, pos: steps.length });
    const v = checkExactlyOnce(r);
    expect(v.length).toBe(1);
    expect(v[0]!.message).toMatch(/channel 0→1: duplicate/);
  });

  it("a delivery nobody sent is an orphan", async () => {
    const r = await goodRun();
    const steps = r.histories[2]!.steps;
    steps.push({ ...steps[1]!, from: 3, digest: 12345, pos: steps.length });
    expect(checkExactlyOnce(r).map((v) => v.message).join()).toMatch(/channel 3→2: orphan/);
  });

  it("a lost and a retracted output break the output oracle", async () => {
    const r = await goodRun();
    expect(checkOutputs(r)).toEqual([]);
    (r.outputs[0] as { seq: number; bytes: Uint8Array }[]).pop();
    (r.outputs[1] as { seq: number; bytes: Uint8Array }[])[0] = { seq: 0, bytes: canonicalOf({ other: true }) };
    const v = checkOutputs(r).map((x) => x.message);
    expect(v.some((m) => m.startsWith("rank 0: lost output"))).toBe(true);
    expect(v.some((m) => m.startsWith("rank 1: output #1"))).toBe(true);
  });

  it("a survivor rollback breaks the pessimistic guarantee but not the optimistic one", async () => {
    const r = await goodRun();
    (r.rollbacks as { rank: number; incarnation: number; live: boolean; why: string }[]).push({ rank: 3, incarnation: 0, live: true, why: "test" });
    expect(checkFamily(r, "pessimistic").length).toBe(1);
    expect(checkFamily(r, "optimistic")).toEqual([]);
  });

  it("unrecoverable is accepted only beyond f", async () => {
    const r = await goodRun();
    const within = { ...r, f: 1, maxConcurrent: 1, unrecoverable: "unrecoverable: test", finished: false };
    const beyond = { ...within, maxConcurrent: 2 };
    expect(checkOutcome(within).length).toBe(1);
    expect(checkOutcome(beyond)).toEqual([]);
  });
});

describe("the optimistic family (Fig 3a, Damani–Garg)", () => {
  it("survivors may roll back; an orphan kept or an output taken back is still caught", async () => {
    const { protocols } = await discoverProtocols({ backends: ["composer"] });
    const e = protocols.find((p) => p.name === "fig3a-damani-garg")!;
    // The spec classifies as optimistic: no "no survivor rollback" requirement applies to it.
    expect(e.family).toBe("optimistic");
    const a = findApp("all-to-all");
    const app = await loadConformanceApp(a);
    const reference = await runSimJob({ protocol: await e.load(), app, size: a.size, seed: 1, schedule: [], args: a.args });
    // A crash that loses unflushed states others depend on: the survivors that are orphans roll back.
    const r = await runSimJob({ protocol: await e.load(), app, size: a.size, seed: 19, schedule: [{ rank: 2, atStep: 75 }], args: a.args });
    const ctx = { app, args: a.args, orderDeterministic: true, reference };
    expect(r.finished).toBe(true);
    expect(r.rollbacks.some((rb) => rb.live)).toBe(true);
    expect(await checkRun(r, { ...ctx, family: "optimistic" })).toEqual([]);
    // The same run judged by the pessimistic rules is a violation (survivor rollbacks).
    expect(checkFamily(r, "pessimistic").length).toBeGreaterThan(0);
    // An orphan that failed to roll back: a survivor keeps a delivery its sender's history never sent.
    const steps = r.histories[1]!.steps;
    steps.push({ ...steps[steps.length - 1]!, from: 2, digest: 0xdead, pos: steps.length });
    const outputs = r.outputs[0] as { seq: number; bytes: Uint8Array }[];
    outputs[0] = { seq: outputs[0]!.seq, bytes: canonicalOf({ retracted: true }) };
    const v = await checkRun(r, { ...ctx, family: "optimistic" });
    expect(v.some((x) => x.oracle === "exactly-once" && /channel 2→1: orphan/.test(x.message))).toBe(true);
    expect(v.some((x) => x.oracle === "outputs" && x.message.startsWith("rank 0: output #1"))).toBe(true);
  });
});

describe("schedules", () => {
  it("parse what they print and reject nonsense with a reason", () => {
    const s = parseSchedule('[{"rank":1,"atStep":5},{"rank":0,"when":"replay","nth":2},{"rank":2,"atDelivery":3,"restartAfterMs":4}]');
    expect(s.length).toBe(3);
    expect(() => parseSchedule('{"rank":1}')).toThrow(/array/);
    expect(() => parseSchedule('[{"rank":1,"when":"lunch"}]')).toThrow(/needs one of/);
    expect(() => parseSchedule('[{"atStep":3}]')).toThrow(/rank/);
  });
});

describe("the causal family within f: a lost read that no survivor saw", () => {
  it("may be re-read differently when every process that saw it failed, not when a survivor saw it", async () => {
    const { protocols } = await discoverProtocols({ backends: ["composer"] });
    const e = protocols.find((p) => p.name === "family-based-causal")!;
    const a = findApp("master-worker");
    const app = await loadConformanceApp(a);
    // The master and worker 3 die together (f = 2): the master's third seed was held only by the
    // two of them, so the recovered master reads it afresh and its send to worker 3 differs.
    const schedule = parseSchedule('[{"rank":0,"atStep":1,"restartAfterMs":20},{"rank":3,"atStep":1,"restartAfterMs":20}]');
    const r = await runSimJob({ protocol: await e.load(), app, size: a.size, seed: 101, schedule, args: a.args });
    expect(r.finished).toBe(true);
    expect(r.crashes.map((c) => c.rank).sort()).toEqual([0, 3]);
    expect(checkFamily(r, "causal")).toEqual([]);
    // Had worker 3 survived (no crash record of it) and delivered the old task, it would have seen
    // it: a violation. (Surviving without delivering it, it saw nothing: the frame may have been
    // lost with the master's last step.)
    const c0 = r.crashes.find((c) => c.rank === 0)!;
    const oldTasks = c0.before.filter((st) => st.pos <= c0.visible).flatMap((st) => st.sends.filter((m) => m.to === 3));
    const h3 = r.histories[3]!;
    const saw = Object.assign(Object.create(Object.getPrototypeOf(h3) as object) as typeof h3, h3, {
      deliveries: [...h3.deliveries, ...oldTasks.map((m, i) => ({ from: 0, digest: m.digest, replay: false, incarnation: 0, pos: i }))],
      received: [...h3.received, ...oldTasks.map((m) => ({ from: 0, fromIncarnation: c0.incarnation, digest: m.digest }))],
    });
    const survived = { ...r, crashes: r.crashes.filter((c) => c.rank !== 3), histories: r.histories.map((h, q) => (q === 3 ? saw : h)) };
    expect(checkFamily(survived, "causal").map((v) => v.message).join()).toMatch(/rank 0 did not return to its pre-crash state/);
    // Pessimistic logging never loses a read: the same difference is a violation there.
    expect(checkFamily(r, "pessimistic").length).toBeGreaterThan(0);
  });
});

describe("the causal family within f: a send of a crashed sender that its receiver, crashed earlier, never delivered", () => {
  it("may differ after recovery when no incarnation of the receiver delivered it, not when one did or the receiver survived", async () => {
    const { protocols } = await discoverProtocols({ backends: ["composer"] });
    const e = protocols.find((p) => p.name === "family-based-causal")!;
    const a = findApp("jacobi");
    const app = await loadConformanceApp(a);
    // Rank 1 crashes (down 20 ms), then its neighbour rank 0, which had sent it more than rank 1 had
    // made visible from rank 0 by its crash (campaign seeds 13 and 35 of the first async-read version).
    const schedule = parseSchedule('[{"rank":1,"atStep":140,"restartAfterMs":20},{"rank":0,"atStep":160,"restartAfterMs":5}]');
    const r = await runSimJob({ protocol: await e.load(), app, size: a.size, seed: 3, schedule, args: a.args });
    expect(r.finished).toBe(true);
    const c0 = r.crashes.find((c) => c.rank === 0)!;
    const c1 = r.crashes.find((c) => c.rank === 1)!;
    expect(c1.time).toBeLessThan(c0.time);
    expect(checkFamily(r, "causal")).toEqual([]);
    // The first visible send of rank 0 to rank 1 beyond what rank 1 had made visible from rank 0.
    const seen = c1.before.filter((s) => s.from === 0 && s.pos <= c1.visible).length;
    let k = 0;
    let at: [number, number] | null = null;
    for (let p = 0; p <= c0.visible; p++) c0.before[p]!.sends.forEach((m, i) => (m.to === 1 && ++k > seen ? (at ??= [p, i]) : null));
    expect(at).not.toBeNull();
    const [p, i] = at!;
    // Rank 0's old incarnation sent something else there (as if it had read a lost value): the
    // recovered send differs, and no incarnation of rank 1 ever delivered the old one.
    const old = c0.before[p]!.sends[i]!.digest ^ 0x5a5a5a5a;
    const before = c0.before.map((s, q) => (q === p ? { ...s, sends: s.sends.map((m, j) => (j === i ? { ...m, digest: old } : m)) } : s));
    const differs: JobResult = { ...r, crashes: r.crashes.map((c) => (c === c0 ? { ...c, before } : c)) };
    expect(checkFamily(differs, "causal")).toEqual([]);
    const violated = /rank 0 did not return to its pre-crash state/;
    // Had rank 1's next incarnation delivered the old message (resent before rank 0 died): a violation.
    const h1 = r.histories[1]!;
    const withOld = (incarnation: number) =>
      Object.assign(Object.create(Object.getPrototypeOf(h1) as object) as typeof h1, h1, {
        deliveries: [...h1.deliveries, { from: 0, digest: old, replay: false, incarnation, pos: seen }],
        received: [...h1.received, { from: 0, fromIncarnation: c0.incarnation, digest: old }],
      });
    const got: JobResult = { ...differs, histories: r.histories.map((h, q) => (q === 1 ? withOld(c1.incarnation + 1) : h)) };
    expect(checkFamily(got, "causal").map((v) => v.message).join()).toMatch(violated);
    // Had rank 1 not crashed: a survivor that delivered the old message saw it (a violation); one
    // that never delivered it did not (the frame was lost with rank 0's last step).
    const survivedSaw: JobResult = { ...got, crashes: got.crashes.filter((c) => c.rank !== 1) };
    expect(checkFamily(survivedSaw, "causal").map((v) => v.message).join()).toMatch(violated);
    const survivedNever: JobResult = { ...differs, crashes: differs.crashes.filter((c) => c.rank !== 1) };
    expect(checkFamily(survivedNever, "causal")).toEqual([]);
    // Pessimistic logging never lets a recovered send differ.
    expect(checkFamily(differs, "pessimistic").length).toBeGreaterThan(0);
  });
});
