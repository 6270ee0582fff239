/**
 * Differential testing: for the same seed and crash schedule, the inline and
 * modular back ends and the dev composer (the block library run directly)
 * must produce identical traces — every delivery (with its digest and replay
 * flag), send, output, checkpoint and recovery, in order — and identical
 * outputs. Also: a run is a function of its seed (same seed, same trace).
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { findApp, loadConformanceApp } from "./apps.js";
import { runSimJob, type JobResult } from "./harness.js";
import { CRASH_PROVEN, SLICE_ONLY, discoverProtocols } from "./protocols.js";
import type { CrashSchedule } from "./schedule.js";

const found = await discoverProtocols({ backends: ["inline", "modular", "composer"] });
const protocols = found.protocols.filter((p) => CRASH_PROVEN.includes(p.name) && SLICE_ONLY[p.name] === undefined);
const names = [...new Set(protocols.map((p) => p.name))];
const pending = [...new Set(found.protocols.map((p) => p.name))].filter((n) => !CRASH_PROVEN.includes(n));

const CASES: ReadonlyArray<[string, number, CrashSchedule]> = [
  ["writer", 7, [{ rank: 1, atStep: 50 }, { rank: 1, when: "replay", nth: 2 }]],
  // master-worker draws its seeds from Math.random through ctx.read: runs differ by design, so it is not here.
  ["jacobi", 11, [{ rank: 0, atDelivery: 6 }, { rank: 2, when: "after-checkpoint", nth: 1 }]],
  ["all-to-all", 5, [{ rank: 3, when: "before-flush", nth: 3 }, { rank: 1, atStep: 90, restartAfterMs: 20 }]],
];

/**
 * The checkpoint-only protocols have no log to flush, and all-to-all is over by step 73 under them:
 * the all-to-all case crashes around a checkpoint write instead.
 */
const CKPT_ONLY_ALL_TO_ALL: CrashSchedule = [{ rank: 3, when: "before-checkpoint", nth: 2 }, { rank: 1, atStep: 40, restartAfterMs: 20 }];
const scheduleOf = (family: string, appName: string, s: CrashSchedule): CrashSchedule =>
  family === "checkpoint-only" && appName === "all-to-all" ? CKPT_ONLY_ALL_TO_ALL : s;

/**
 * The whole trace, outputs and counts; a hash plus the length, so a mismatch prints short.
 * Per rank, the `recover` events are compared in order but apart from the rest: it is traced when
 * the onRecover chain resumes after the replay, and the first live delivery may start before or
 * after that resumption depending on the back end's await depth (seen with the causal specs:
 * inline traces the delivery first). Every delivery, send, output and checkpoint keeps its place.
 */
const fingerprint = (r: JobResult): string => {
  const recovers = r.trace.filter((e) => e.type === "recover");
  const rest = r.trace.filter((e) => e.type !== "recover");
  const text = JSON.stringify({ trace: rest, recovers, outputs: r.outputs.map((o) => o.map((x) => [x.seq, Buffer.from(x.bytes).toString("base64")])), counts: r.counts });
  return `${r.trace.length} events, sha256 ${createHash("sha256").update(text).digest("hex").slice(0, 16)}`;
};

describe("differential: inline vs modular vs composer", () => {
  it("has protocols built by all three back ends", () => {
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(protocols.filter((p) => p.name === n).map((p) => p.backend).sort()).toEqual(["composer", "inline", "modular"]);
  });

  describe.each(names)("%s", (name) => {
    it.each(CASES)("%s seed %i: identical traces and outputs", async (appName, seed, schedule) => {
      const a = findApp(appName);
      const app = await loadConformanceApp(a);
      const prints: string[] = [];
      for (const e of protocols.filter((p) => p.name === name)) {
        const r = await runSimJob({ protocol: await e.load(), app, size: a.size, seed, schedule: scheduleOf(e.family, appName, schedule), args: a.args });
        expect(r.counts.crashes, `${e.backend}: the schedule must crash something`).toBeGreaterThan(0);
        prints.push(fingerprint(r));
      }
      expect(prints.length).toBe(3);
      expect(prints[1]).toBe(prints[0]);
      expect(prints[2]).toBe(prints[0]);
    });
  });

  for (const n of pending) it.todo(`${n}: compared once it is crash-proven (its back ends may not all build yet)`);

  it("same seed, same trace; another seed, another interleaving", async () => {
    const e = protocols.find((p) => p.backend === "inline")!;
    const a = findApp("all-to-all");
    const app = await loadConformanceApp(a);
    const run = async (seed: number): Promise<string> => fingerprint(await runSimJob({ protocol: await e.load(), app, size: a.size, seed, schedule: [{ rank: 2, atStep: 40 }], args: a.args }));
    expect(await run(9)).toBe(await run(9));
    expect(await run(9)).not.toBe(await run(10));
  });
});
