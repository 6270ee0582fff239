/**
 * Family-based causal logging with the dependency matrix (causal/det-log):
 * a send carries what its destination does not know yet, and visits only the
 * determinants learnt since the previous message to that destination, however
 * long the run since the last checkpoint (bench/piggyback.ts measures the
 * same in bytes and µs). Jacobi in the simulator, checkpoints frozen.
 *
 * Before: every message carried the whole n × n matrix and every unstable
 * determinant the destination was not known to depend on, and each send
 * walked every determinant since the checkpoint (jacobi, 8 ranks: 2.5× the
 * bytes the destination did not know; the walk grew with the run).
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { kernelOf } from "../../compiler/src/blocks/compose.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";
import type { DeliverEv, SendEv, WriteEv } from "../../compiler/src/blocks/hooks.js";
import type { App, Protocol, ProtocolFactory, ProtocolHost } from "@egida/runtime-core/spi";
import { checkApp } from "../../runtime-core/src/host/load-app.js";
import { runJob } from "./harness.js";
import { loadSpec } from "./spec.js";

const factory = composeFromIR(loadSpec("family-based-causal.egida", { checkpointIntervalMs: 1e12, flushIntervalMs: 1e12 }));

interface Tally {
  /** Output commits, and the determinants they examined: the last one's unstable ones and the queue since its cursor (the whole log when unknown). */
  writes: number;
  examined: number;
  sends: number;
  /** Determinants a send visited: those after cdQTold[to] (the whole log when unknown). */
  visited: number;
  maxQueue: number;
  novelBytes: number;
}

/** Counts what each send visits and what each delivery taught its receiver (determinants: 16 B, matrix entries of others' rows: 4 B). */
function instrumented(t: Tally): ProtocolFactory {
  return {
    protocolName: factory.protocolName,
    defaultF: factory.defaultF,
    create(host: ProtocolHost): Protocol {
      const p = factory.create(host);
      const s = kernelOf(p);
      const send = s.onSend.bind(s);
      const logSize = (): number => s.cdDets.reduce((a, m) => a + m.size, 0);
      s.onSend = (ev: SendEv): void => {
        const from = s.cdQTold[ev.to]!;
        t.visited += from >= 0 ? s.cdQBase + s.cdQ.length - from : logSize();
        t.sends++;
        send(ev);
        t.maxQueue = Math.max(t.maxQueue, s.cdQ.length);
      };
      const write = s.onWrite.bind(s);
      s.onWrite = (ev: WriteEv): Promise<void> => {
        t.examined += s.cdQCommit < s.cdQBase ? logSize() : s.ocUnstable.length + s.cdQBase + s.cdQ.length - s.cdQCommit;
        t.writes++;
        return write(ev);
      };
      const deliver = s.onDeliver.bind(s);
      s.onDeliver = async (ev: DeliverEv): Promise<void> => {
        const dets = logSize();
        const dm = s.cdDm.slice();
        await deliver(ev);
        t.novelBytes += 16 * (logSize() - dets - 1);
        const n = s.host.size;
        for (let i = 0; i < n * n; i++) if (((i / n) | 0) !== s.host.rank && s.cdDm[i]! > dm[i]!) t.novelBytes += 4;
      };
      return p;
    },
  };
}

async function run(appName: string, args: string[], ranks: number): Promise<{ t: Tally; messages: number; pbBytes: number }> {
  const mod = (await import(pathToFileURL(join(import.meta.dirname, `../../examples/apps/${appName}.mjs`)).href)) as { default?: unknown };
  const app = checkApp(mod.default, `${appName}.mjs`) as unknown as App<unknown>;
  const t: Tally = { writes: 0, examined: 0, sends: 0, visited: 0, maxQueue: 0, novelBytes: 0 };
  const r = await runJob({ factory: instrumented(t), app: { ...app, init: (o) => app.init({ ...o, args }) }, size: ranks, seed: 1, crashes: 0, maxTime: 1e9 });
  expect(r.errors).toEqual([]);
  expect(r.done.every(Boolean)).toBe(true);
  let messages = 0;
  let pbBytes = 0;
  for (const p of r.protocols) {
    messages += p.stats().messages;
    pbBytes += p.stats().piggybackBytes;
  }
  return { t, messages, pbBytes };
}

const jacobi = (ranks: number, iters: number): ReturnType<typeof run> => run("jacobi", ["32", String(iters)], ranks);

describe("family-based causal: piggyback and send cost", () => {
  it.each([4, 8])("%i ranks: the piggyback is within 2x of what the destination did not know", async (ranks) => {
    const r = await jacobi(ranks, 100);
    expect(r.pbBytes / r.t.novelBytes).toBeLessThan(2);
  });

  it("a send visits as many determinants in a 4x longer run (no walk of the log since the checkpoint)", async () => {
    const short = await jacobi(4, 100);
    const long = await jacobi(4, 400);
    expect(long.messages).toBeGreaterThan(3.9 * short.messages);
    const perSend = (r: typeof short): number => r.t.visited / r.t.sends;
    // A few determinants per send (the destination's news), not hundreds.
    expect(perSend(short)).toBeLessThan(10);
    expect(perSend(long)).toBeLessThan(1.2 * perSend(short));
    // The queue is trimmed: bounded by its trim length, not by the run.
    expect(long.t.maxQueue).toBeLessThan(1024);
  });

  it("an output commit examines as many determinants in a 4x longer run (no walk of the log since the checkpoint)", async () => {
    // writer: every step writes (awaiting the commit) and passes a baton; checkpoints frozen, so the log only grows.
    const short = await run("writer", ["100"], 4);
    const long = await run("writer", ["400"], 4);
    expect(long.t.writes).toBe(4 * short.t.writes);
    const perWrite = (r: typeof short): number => r.t.examined / r.t.writes;
    expect(perWrite(long)).toBeLessThan(1.2 * perWrite(short) + 1);
    // What a commit examines is what arrived since the previous one, not the log (4 x 400 steps here).
    expect(perWrite(long)).toBeLessThan(20);
  });
});
