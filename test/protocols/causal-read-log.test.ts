/**
 * Causal logging with `read: determinant : {...} Log determinant synchronously
 * on NFS disk`: read values go to log/read-log (durable before the read
 * resolves) instead of the piggyback, and recovery takes them from there.
 * Causal recovery may end before the last steps a crash lost (nobody depended
 * on them): their logged reads are forgotten, not reported as a divergence
 * (read-log's `read.lostTail`); without that, runs that crash right after a
 * read end `unrecoverable` ("replay diverged").
 */
import { describe, expect, it } from "vitest";
import type { App } from "@egida/runtime-core/spi";
import { runJob } from "./harness.js";
import { counterEnv, expectReadsRecovered, readApp, readProblems } from "./read-app.js";
import { familyBased, specFromText, stabilityMatrix } from "./causal-spec.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

const READ = "read: determinant : {source, sesn, dest, desn}\n";
const withReadLog = (text: string): string =>
  text.replace(READ, "").replace("receive: determinant : {source, sesn, dest, desn}\n", `receive: determinant : {source, sesn, dest, desn}\n${READ}Log determinant synchronously on NFS disk\n`);
const OPTS = { checkpointIntervalMs: 40, flushIntervalMs: 10 };
const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);

describe.each([
  ["dependency matrix, f = 2", withReadLog(familyBased(2)), 2],
  ["stability matrix, f = 1", withReadLog(stabilityMatrix(1)), 1],
] as const)("causal, reads logged synchronously: %s", (_t, text, f) => {
  const factory = composeFromIR(specFromText(text, OPTS));
  const mk = () => readApp({ tokens: 2, hops: 40, env: counterEnv() });

  it.each(SEEDS)("seed %i: read values come back from the read log; tokens agree with the recovered reads", async (seed) => {
    const ref = await runJob({ factory, app: mk(), size: 4, seed, crashes: 0 });
    expect(readProblems(ref.states, ref.outputs, 4)).toEqual([]);
    const run = await runJob({ factory, app: mk(), size: 4, seed, crashes: 5, crashWindow: [1, 120], maxConcurrent: f, failedUntilLive: true, restartDelay: 3 + (seed % 7) });
    expectReadsRecovered(run, ref, 4);
  });

  it("no read value travels on the piggyback", async () => {
    const logged = await runJob({ factory, app: mk(), size: 4, seed: 3, crashes: 0 });
    const piggybacked = await runJob({ factory: composeFromIR(specFromText(text.replace("Log determinant synchronously on NFS disk\n", ""), OPTS)), app: mk(), size: 4, seed: 3, crashes: 0 });
    const bytes = (r: typeof logged) => r.protocols.reduce((a, p) => a + p.stats().piggybackBytes, 0);
    const logBytes = (r: typeof logged) => r.protocols.reduce((a, p) => a + p.stats().bytesLogged, 0);
    expect(logBytes(logged)).toBeGreaterThan(logBytes(piggybacked));
    expect(bytes(logged)).toBeLessThan(bytes(piggybacked));
  });
});

/** Ranks 1..n-1 each send `per` messages to rank 0, which reads a value on every delivery and never sends or writes: nobody ever holds its determinants. */
function sinkApp(per: number, env: (rank: number) => number): App<{ rank: number; got: number[]; want: number }> {
  return {
    init: ({ rank, size }) => ({ rank, got: [], want: rank === 0 ? per * (size - 1) : 0 }),
    onStart(s, ctx) {
      if (s.rank !== 0) {
        for (let i = 0; i < per; i++) ctx.send(0, i);
        ctx.done();
      }
    },
    async onMessage(s, _msg, ctx) {
      s.got.push(await ctx.read(() => env(s.rank)));
      if (s.got.length === s.want) ctx.done();
    },
  };
}

describe("the read log's lost tail", () => {
  it.each([1, 2, 3, 4])("seed %i: a sink's reads whose determinants died with it are forgotten, not a divergence", async (seed) => {
    const factory = composeFromIR(specFromText(withReadLog(familyBased(1)), { checkpointIntervalMs: 1e9, flushIntervalMs: 10 }));
    const ref = await runJob({ factory, app: sinkApp(30, counterEnv()), size: 4, seed, crashes: 0 });
    expect(ref.errors).toEqual([]);
    const run = await runJob({ factory, app: sinkApp(30, counterEnv()), size: 4, seed, crashes: 0, schedule: [{ at: ref.time / 2, rank: 0 }], restartDelay: 2, failedUntilLive: true, maxConcurrent: 1 });
    expect(run.crashedRanks).toEqual([0]);
    expect(run.errors).toEqual([]);
    expect(run.done.every(Boolean)).toBe(true);
    expect(run.states[0]!.got.length).toBe(90);
  });
});
