/**
 * `ctx.read(produce)` with a synchronous `produce` returns the value at once
 * (not a promise), under every checked-in protocol, with crashes: the app
 * sends the value it read straight away (a promise would fail to clone) and
 * keeps it in its state; the receivers' copies must agree with what the
 * senders' final (recovered) states say they read, so a replay that produced
 * afresh a value a peer had already seen shows as a disagreement. An async
 * `produce` (awaited) is logged and replayed too. A Promise given to ctx.send
 * fails with one line naming the call and the likely cause.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { App } from "@egida/runtime-core/spi";
import { runSimJob } from "../../runtime-core/src/launcher/sim-job.js";
import { noneProtocol } from "../../runtime-core/src/protocols/none.js";
import { next } from "./apps.js";
import { runJob, type JobResult } from "./harness.js";
import { counterEnv } from "./read-app.js";
import { loadSpec } from "./spec.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

interface SyncState {
  rank: number;
  size: number;
  count: number;
  expected: number;
  dups: number;
  seen: Record<string, true>;
  start: number;
  /** Per hop key handled here: the value read synchronously, and the one read through an async produce. */
  reads: Record<string, number>;
  asyncReads: Record<string, number>;
  /** Per hop key received: the value its sender read (carried by the token). */
  got: Record<string, number>;
}

interface Token {
  origin: number;
  id: number;
  hops: number;
  v: number;
}

const TOKENS = 2;
const HOPS = 16;

function expectedFor(rank: number, size: number): number {
  let n = 0;
  for (let o = 0; o < size; o++) {
    for (let id = 0; id < TOKENS; id++) {
      let at = o;
      for (let h = 1; h <= HOPS; h++) {
        at = next(at, { origin: o, id, hops: h - 1 }, size);
        if (at === rank) n++;
      }
    }
  }
  return n;
}

/** The value a synchronous read returned; anything else (a promise) is the bug this file is about. */
function num(v: unknown, where: string): number {
  if (typeof v !== "number") throw new TypeError(`${where}: ctx.read(() => number) returned ${Object.prototype.toString.call(v)}`);
  return v;
}

function syncReadApp(env: (rank: number) => number): App<SyncState> {
  return {
    init: ({ rank, size }) => ({ rank, size, count: 0, expected: expectedFor(rank, size), dups: 0, seen: {}, start: 0, reads: {}, asyncReads: {}, got: {} }),
    onStart(s, ctx) {
      s.start = num(ctx.read(() => env(s.rank)), "onStart");
      if (s.expected === 0) ctx.done();
      for (let id = 0; id < TOKENS; id++) {
        const t = { origin: s.rank, id, hops: 0 };
        ctx.send(next(s.rank, t, s.size), { ...t, hops: 1, v: s.start } satisfies Token);
      }
    },
    async onMessage(s, msg, ctx) {
      const t = msg.data as Token;
      const key = `${t.origin}.${t.id}.${t.hops}`;
      if (s.seen[key]) s.dups++;
      s.seen[key] = true;
      s.count++;
      s.got[key] = t.v;
      // Used at once: no await, sent as is.
      const v = num(ctx.read(() => env(s.rank)), `hop ${key}`);
      s.reads[key] = v;
      if (t.hops < HOPS) ctx.send(next(s.rank, t, s.size), { origin: t.origin, id: t.id, hops: t.hops + 1, v } satisfies Token);
      // An async produce (a file, the network): a promise, awaited.
      if (t.hops % 3 === 0) s.asyncReads[key] = await ctx.read(async () => env(s.rank) + 0.5);
      if (t.hops % 4 === 0) await ctx.write({ key, v });
      if (s.count === s.expected) ctx.done();
    },
  };
}

/** Every token a rank received carries the value its sender's final state says it read for the hop before. */
function disagreements(run: JobResult<SyncState>): string[] {
  const bad: string[] = [];
  const where = new Map<string, number>();
  run.states.forEach((st, r) => {
    for (const key of Object.keys(st.reads)) where.set(key, r);
  });
  run.states.forEach((st, r) => {
    if (st.dups !== 0) bad.push(`rank ${r}: ${st.dups} duplicate deliveries`);
    if (st.count !== st.expected) bad.push(`rank ${r}: delivered ${st.count} of ${st.expected}`);
    for (const [key, v] of Object.entries(st.got)) {
      const [o, id, h] = key.split(".").map(Number) as [number, number, number];
      const prev = `${o}.${id}.${h - 1}`;
      const want = h === 1 ? run.states[o]!.start : run.states[where.get(prev) ?? -1]?.reads[prev];
      if (want !== v) bad.push(`token ${key} at rank ${r} carries ${v}, its sender's state read ${String(want)} (orphan)`);
    }
    for (const [key, v] of Object.entries(st.asyncReads)) if (typeof v !== "number") bad.push(`rank ${r} ${key}: async read gave ${String(v)}`);
  });
  return bad;
}

const SPECS = readdirSync(join(import.meta.dirname, "../../specs"))
  .filter((f) => f.endsWith(".egida"))
  .sort();

describe("ctx.read with a synchronous produce returns the value at once, under crashes", () => {
  it("covers every checked-in spec", () => {
    expect(SPECS.length).toBeGreaterThanOrEqual(21);
  });

  it.each(SPECS)("%s: values sent at once agree with the recovered senders' reads", async (file) => {
    const factory = composeFromIR(loadSpec(file, { checkpointIntervalMs: 40, flushIntervalMs: 10 }));
    for (const seed of [1, 2, 3]) {
      const run = await runJob({ factory, app: syncReadApp(counterEnv()), size: 4, seed, crashes: 3, crashWindow: [2, 120], maxConcurrent: 1, restartDelay: 4 + seed });
      expect(run.crashedRanks.length).toBeGreaterThan(0);
      expect(run.errors).toEqual([]);
      expect(run.retractions).toEqual([]);
      expect(run.done.every(Boolean)).toBe(true);
      expect(disagreements(run)).toEqual([]);
    }
  });
});

describe("a value that cannot be cloned", () => {
  const run = (app: App<unknown>) =>
    runSimJob({ size: 2, seed: 1, app, protocol: noneProtocol as unknown as Parameters<typeof runSimJob>[0]["protocol"] });

  it("a Promise given to ctx.send names the call and the missing await, in one line and the app's frame", async () => {
    const res = await run({
      init: () => ({}),
      onStart(_s, ctx) {
        if (ctx.rank === 0) ctx.send(1, Promise.resolve(1));
        ctx.done();
      },
      onMessage() {},
    });
    expect(res.failure?.kind).toBe("app-error");
    const f = res.failure?.kind === "app-error" ? res.failure : null;
    expect(f?.message).toMatch(/^ctx\.send\(1, …\): a Promise cannot be sent .*did you forget `await` before ctx\.read/);
    // The message and the app's call site: not v8's serializer and the runtime's frames.
    expect(f?.stack.split("\n").length).toBeLessThanOrEqual(2);
    expect(f?.stack).toMatch(/read-sync\.test\.ts/);
  });

  it("a function inside ctx.write's data is named too", async () => {
    const res = await run({
      init: () => ({}),
      async onStart(_s, ctx) {
        await ctx.write({ f: () => 1 });
        ctx.done();
      },
      onMessage() {},
    });
    const f = res.failure?.kind === "app-error" ? res.failure : null;
    expect(f?.message).toMatch(/^ctx\.write\(…\): a value holding a function cannot be written/);
  });
});
