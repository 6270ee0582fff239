/**
 * Causal logging with `read: determinant : {...} Log determinant
 * asynchronously on NFS disk` (specs/fbl-async-reads.egida: family-based,
 * dependency matrix, f = 2): log/read-log appends each value without waiting
 * and syncs on the flush timer; causal/det-log piggybacks the value until
 * the reader's watermark (TAG_CAUSAL_STABLE's third word) says it is
 * flushed, then nobody carries it; recovery takes a value some process holds,
 * else the log's, else a fresh one.
 *
 * "flushed, then forgotten by everyone": n = 3; rank 0 asks rank 1, which
 * reads a value v (an environment counter outside the process: a second
 * `produce` gives another value), then plays 20 hops of ping-pong with rank
 * 2 (the read log is flushed meanwhile, every 2 ms) and only then sends v to
 * rank 0 in a payload; the piggyback no longer carries it. Ranks 1 and 2
 * then crash together (f = 2): nobody holds v, rank 0's state depends on it,
 * and rank 1 must read it back from its log. Without the read-back (the
 * negative control in docs/protocols.md) rank 1 re-reads a fresh value and
 * disagrees with rank 0.
 *
 * "piggybacked until flushed": the flush timer frozen, rank 1 reads v and
 * sends it to rank 2 at once, writing nothing (no output-commit push); rank
 * 1 crashes alone, its unsynced record is lost, and rank 2, which holds v
 * from the piggyback, gives it back. With reads never piggybacked (second
 * negative control) rank 1 re-reads a fresh value.
 */
import { describe, expect, it } from "vitest";
import type { App, ProtocolFactory } from "@egida/runtime-core/spi";
import { readFileSync } from "node:fs";
import { discoverProtocols } from "../conformance/protocols.js";
import { specFromText } from "./causal-spec.js";
import { runJob } from "./harness.js";
import { counterEnv, expectReadsRecovered, readApp } from "./read-app.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

interface St {
  rank: number;
  v: number;
  got: number;
}

const HOPS = 20;

function app(env: (rank: number) => number): App<St> {
  return {
    init: ({ rank }) => ({ rank, v: -1, got: -1 }),
    onStart(s, ctx) {
      if (s.rank === 0) ctx.send(1, "go");
    },
    async onMessage(s, msg, ctx) {
      if (s.rank === 0) {
        s.got = msg.data as number;
        ctx.done();
      } else if (s.rank === 1) {
        if (msg.from === 0) {
          s.v = await ctx.read(() => env(1));
          ctx.send(2, 0);
        } else if ((msg.data as number) < HOPS) ctx.send(2, (msg.data as number) + 1);
        else {
          ctx.send(0, s.v);
          ctx.done();
        }
      } else {
        ctx.send(1, msg.data as number);
        if (msg.data === HOPS) ctx.done();
      }
    },
  };
}

/** Rank 0 asks rank 1, which reads v and sends it straight to rank 2. */
function direct(env: (rank: number) => number): App<St> {
  return {
    init: ({ rank }) => ({ rank, v: -1, got: -1 }),
    onStart(s, ctx) {
      if (s.rank === 0) {
        ctx.send(1, "go");
        ctx.done();
      }
    },
    async onMessage(s, msg, ctx) {
      if (s.rank === 1) {
        s.v = await ctx.read(() => env(1));
        ctx.send(2, s.v);
      } else s.got = msg.data as number;
      ctx.done();
    },
  };
}

const BACKENDS = ["inline", "modular", "composer"] as const;
const found = (await discoverProtocols({ backends: [...BACKENDS], options: { checkpointIntervalMs: 60_000, flushIntervalMs: 2 } })).protocols.filter((p) => p.name === "fbl-async-reads");
// Under random crashes: a flush period long against a hop, so many values are still piggybacked when their reader crashes.
const slow = (await discoverProtocols({ backends: [...BACKENDS], options: { checkpointIntervalMs: 40, flushIntervalMs: 25 } })).protocols.filter((p) => p.name === "fbl-async-reads");
const frozen = (await discoverProtocols({ backends: [...BACKENDS], options: { checkpointIntervalMs: 60_000, flushIntervalMs: 60_000 } })).protocols.filter((p) => p.name === "fbl-async-reads");

it("finds every build", () => {
  expect(found.length).toBe(3);
});

describe.each(found.map((p) => [p.backend, p] as const))("fbl-async-reads (%s)", (_title, entry) => {
  it.each([1])("seed %i: a flushed read nobody holds comes back from the reader's log after it and its holders fail", async (seed) => {
    // The conformance loader types against runtime-core's source SPI, the harness against the package's: same shapes.
    const factory = (await entry.load()) as unknown as ProtocolFactory;
    const ref = await runJob({ factory, app: app(counterEnv()), size: 3, seed, crashes: 0 });
    expect(ref.errors).toEqual([]);
    const run = await runJob({ factory, app: app(counterEnv()), size: 3, seed, crashes: 0, schedule: [{ at: ref.time + 5, rank: 1 }, { at: ref.time + 5, rank: 2 }], crashWindow: [0, ref.time + 50], restartDelay: 3, failedUntilLive: true, maxConcurrent: 2, f: 2 });
    expect(run.crashedRanks.sort()).toEqual([1, 2]);
    expect(run.recovered).toBe(2);
    expect(run.errors).toEqual([]);
    expect(run.states[0]!.got).toBe(ref.states[0]!.got);
    expect(run.states[1]!.v).toBe(run.states[0]!.got);
  });

  it.each([1])("seed %i: an unflushed read travels on the piggyback: its holder gives it back to the crashed reader", async (seed) => {
    const factory = (await frozen.find((p) => p.backend === entry.backend)!.load()) as unknown as ProtocolFactory;
    const ref = await runJob({ factory, app: direct(counterEnv()), size: 3, seed, crashes: 0 });
    expect(ref.errors).toEqual([]);
    const run = await runJob({ factory, app: direct(counterEnv()), size: 3, seed, crashes: 0, schedule: [{ at: ref.time + 5, rank: 1 }], crashWindow: [0, ref.time + 50], restartDelay: 3, failedUntilLive: true, maxConcurrent: 2, f: 2 });
    expect(run.crashedRanks).toEqual([1]);
    expect(run.recovered).toBe(1);
    expect(run.errors).toEqual([]);
    expect(run.states[1]!.v).toBe(run.states[2]!.got);
  });

  it.each([1, 2])("seed %i: the reading app under random crashes (≤ f at once): tokens agree with the recovered reads", async (seed) => {
    const factory = (await slow.find((p) => p.backend === entry.backend)!.load()) as unknown as ProtocolFactory;
    const mk = () => readApp({ tokens: 2, hops: 30, env: counterEnv() });
    const ref = await runJob({ factory, app: mk(), size: 4, seed, crashes: 0 });
    const run = await runJob({ factory, app: mk(), size: 4, seed, crashes: 5, crashWindow: [1, 100], maxConcurrent: 2, failedUntilLive: true, restartDelay: 3 + (seed % 5), f: 2 });
    expectReadsRecovered(run, ref, 4);
  });
});

it("flushed reads stop travelling: less piggyback than the same protocol with reads only piggybacked, and the values on the log", async () => {
  const text = readFileSync(new URL("../../specs/fbl-async-reads.egida", import.meta.url), "utf8");
  const opts = { checkpointIntervalMs: 60_000, flushIntervalMs: 5 };
  const mk = () => readApp({ tokens: 2, hops: 40, env: counterEnv() });
  const logged = await runJob({ factory: composeFromIR(specFromText(text, opts)), app: mk(), size: 4, seed: 3, crashes: 0 });
  const piggybacked = await runJob({ factory: composeFromIR(specFromText(text.replace("Log determinant asynchronously on NFS disk\n", ""), opts)), app: mk(), size: 4, seed: 3, crashes: 0 });
  const bytes = (r: typeof logged) => r.protocols.reduce((a, p) => a + p.stats().piggybackBytes, 0);
  const logBytes = (r: typeof logged) => r.protocols.reduce((a, p) => a + p.stats().bytesLogged, 0);
  expect(logBytes(logged)).toBeGreaterThan(logBytes(piggybacked));
  expect(bytes(logged)).toBeLessThan(bytes(piggybacked));
});
