/**
 * A token app that reads non-deterministic input: every hop reads two values
 * from the environment (concurrently, so a step has reads 0 and 1), folds
 * them into the token it passes on and writes them out; onStart reads a seed
 * that goes into the first hop. The environment is a per-rank counter that
 * lives outside the process (it survives crashes), so a replay that calls
 * `produce` again gets a different value: the sink sees a retraction, and
 * the receivers' tokens disagree with the recovered sender.
 */
import { expect } from "vitest";
import type { App } from "@egida/runtime-core/spi";
import { mix } from "./apps.js";
import type { JobResult } from "./harness.js";

export interface ReadState {
  rank: number;
  count: number;
  expected: number;
  dups: number;
  seen: Record<string, true>;
  /** The onStart read. */
  start: number;
  /** Per hop key processed here: the two values read, and the token's acc on arrival. */
  reads: Record<string, [number, number]>;
  accIn: Record<string, number>;
}

export interface ReadToken {
  origin: number;
  id: number;
  hops: number;
  acc: number;
}

export interface ReadOutput {
  key: string;
  a: number;
  b: number;
  acc: number;
  start?: number;
}


function next(at: number, t: { origin: number; id: number; hops: number }, size: number): number {
  return (at + 1 + ((t.origin * 5 + t.id * 3 + t.hops) % (size - 1))) % size;
}

/** Route of every token: how many hops each rank processes. */
function expectedFor(rank: number, size: number, tokens: number, hops: number): number {
  let n = 0;
  for (let o = 0; o < size; o++) {
    for (let id = 0; id < tokens; id++) {
      let at = o;
      for (let h = 1; h <= hops; h++) {
        at = next(at, { origin: o, id, hops: h - 1 }, size);
        if (at === rank) n++;
      }
    }
  }
  return n;
}

/** `env` is the environment: called by `produce`, outside the process's state. */
export function readApp(opts: { tokens: number; hops: number; env: (rank: number) => number }): App<ReadState> {
  return {
    init: ({ rank, size }) => ({ rank, count: 0, expected: expectedFor(rank, size, opts.tokens, opts.hops), dups: 0, seen: {}, start: 0, reads: {}, accIn: {} }),
    async onStart(s, ctx) {
      s.start = await ctx.read(() => opts.env(s.rank));
      await ctx.write({ key: "start", a: 0, b: 0, acc: 0, start: s.start } satisfies ReadOutput);
      if (s.expected === 0) ctx.done();
      for (let id = 0; id < opts.tokens; id++) {
        const t = { origin: s.rank, id, hops: 0 };
        ctx.send(next(s.rank, t, ctx.size), { ...t, hops: 1, acc: mix(s.start, id) } satisfies ReadToken);
      }
    },
    async onMessage(s, msg, ctx) {
      const t = msg.data as ReadToken;
      const key = `${t.origin}.${t.id}.${t.hops}`;
      if (s.seen[key]) s.dups++;
      s.seen[key] = true;
      s.count++;
      s.accIn[key] = t.acc;
      const [a, b] = await Promise.all([ctx.read(() => opts.env(s.rank)), ctx.read(() => opts.env(s.rank))]);
      s.reads[key] = [a, b];
      await ctx.write({ key, a, b, acc: t.acc } satisfies ReadOutput);
      if (t.hops < opts.hops) ctx.send(next(s.rank, t, ctx.size), { ...t, hops: t.hops + 1, acc: mix(mix(t.acc, a), b) } satisfies ReadToken);
      if (s.count === s.expected) ctx.done();
    },
  };
}

/** A fresh environment: per rank, a counter that only moves forward (like a clock). */
export function counterEnv(): (rank: number) => number {
  const clock = new Map<number, number>();
  return (rank) => {
    const v = (clock.get(rank) ?? 0) + 1;
    clock.set(rank, v);
    return rank * 1_000_000 + v;
  };
}

/**
 * Problems with a finished run: exactly-once, released outputs equal the
 * final states, and every token a survivor received agrees with the values
 * its sender's (possibly recovered) state says it read. Empty = consistent.
 */
export function readProblems(states: readonly ReadState[], outputs: ReadonlyMap<string, unknown>, size: number): string[] {
  const bad: string[] = [];
  const byRank: ReadOutput[][] = Array.from({ length: size }, () => []);
  for (const [k, v] of outputs) byRank[Number(k.split(":")[0])]!.push(v as ReadOutput);
  for (let r = 0; r < size; r++) {
    const s = states[r]!;
    if (s.dups !== 0) bad.push(`rank ${r}: ${s.dups} duplicate deliveries`);
    if (s.count !== s.expected) bad.push(`rank ${r}: delivered ${s.count} of ${s.expected}`);
    const outs = byRank[r]!;
    if (outs.length !== s.count + 1) bad.push(`rank ${r}: ${outs.length} outputs for ${s.count} deliveries + start`);
    for (const o of outs) {
      if (o.key === "start") {
        if (o.start !== s.start) bad.push(`rank ${r}: start read ${s.start}, released ${o.start}`);
        continue;
      }
      const got = s.reads[o.key];
      if (got === undefined || got[0] !== o.a || got[1] !== o.b || s.accIn[o.key] !== o.acc) bad.push(`rank ${r} ${o.key}: state and released output differ`);
    }
  }
  // Tokens: hop h+1's acc is a function of hop h's reads (at another rank), hop 1's of the origin's start read.
  const where = new Map<string, number>();
  for (let r = 0; r < size; r++) for (const key of Object.keys(states[r]!.reads)) where.set(key, r);
  for (const [key, r] of where) {
    const [o, id, h] = key.split(".").map(Number) as [number, number, number];
    const acc = states[r]!.accIn[key]!;
    const want = h === 1 ? mix(states[o]!.start, id) : (() => {
      const prevKey = `${o}.${id}.${h - 1}`;
      const pr = where.get(prevKey);
      if (pr === undefined) return NaN;
      const [a, b] = states[pr]!.reads[prevKey]!;
      return mix(mix(states[pr]!.accIn[prevKey]!, a), b);
    })();
    if (acc !== want) bad.push(`token ${key} at rank ${r}: acc ${acc} disagrees with its sender's reads (orphan)`);
  }
  return bad;
}

/**
 * A crash run of the reading app recovered as pessimistic and causal logging
 * promise: no error or retraction, every rank done, no survivor rolled back,
 * the tokens agree with the recovered reads, and the same reads as `ref`.
 */
export function expectReadsRecovered(run: JobResult<ReadState>, ref: JobResult<ReadState>, size: number): void {
  expect(run.crashedRanks.length).toBeGreaterThan(0);
  expect(run.errors).toEqual([]);
  expect(run.retractions).toEqual([]);
  expect(run.done.every(Boolean)).toBe(true);
  expect(run.survivorRollbacks).toBe(0);
  expect(readProblems(run.states, run.outputs, size)).toEqual([]);
  expect(run.states.map((st) => Object.keys(st.reads).sort())).toEqual(ref.states.map((st) => Object.keys(st.reads).sort()));
}
