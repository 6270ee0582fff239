/**
 * Pessimistic logging with co-ordinated and communication-induced checkpoints
 * (blocks/checkpoint/schedule.ts; specs/pessimistic-coordinated.egida,
 * specs/pessimistic-communication-induced.egida): what the schedule promises,
 * observed on the composed protocol in the simulated job harness.
 *
 * - co-ordinated: only rank 0 has a checkpoint timer, yet every rank
 *   checkpoints in every round, and each round truncates the ranks' event
 *   logs;
 * - both: no message is delivered by a process whose checkpoint index is
 *   below the message's (the forced checkpoint), checked at every delivery
 *   while rank 0's checkpoint timer runs 4× faster than the others' so the
 *   indices really diverge;
 * - crashes: the runs match the failure-free run, no survivor rolls back.
 */
import { describe, expect, it } from "vitest";
import { kernelOf } from "../../compiler/src/blocks/compose.js";
import type { Protocol, ProtocolFactory, ProtocolHost, TransportEvents } from "@egida/runtime-core/spi";
import { runJob } from "./harness.js";
import { tokenApp } from "./apps.js";
import { expectSameAsFailureFree } from "./check.js";
import { loadSpec } from "./spec.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

const COORD = "pessimistic-coordinated.egida";
const CIC = "pessimistic-communication-induced.egida";

/**
 * Wraps the factory: records the checkpoint index every App frame carries
 * (piggyback word 1, after the ssn) and, at each live delivery, the receiver's
 * index against the delivered message's. Rank 0's timers run `fast`× faster.
 */
function observed(factory: ProtocolFactory, fast: number): { factory: ProtocolFactory; violations: string[]; deliveries: () => number } {
  const violations: string[] = [];
  let deliveries = 0;
  return {
    violations,
    deliveries: () => deliveries,
    factory: {
      protocolName: factory.protocolName,
      defaultF: factory.defaultF,
      create(host: ProtocolHost): Protocol {
        const carried = new Map<string, number>();
        let p: Protocol | undefined;
        const transport: ProtocolHost["transport"] = {
          rank: host.transport.rank,
          size: host.transport.size,
          send: (to, frame) => host.transport.send(to, frame),
          close: () => host.transport.close(),
          on: (events: TransportEvents) =>
            host.transport.on({
              ...events,
              frame: (f) => {
                if ((f.kind as number) === 1) {
                  const raw = new Uint8Array(f.piggyback);
                  const w = new Uint32Array(raw.buffer, 0, raw.byteLength >>> 2);
                  carried.set(`${f.from}:${w[0]}`, w[1]!);
                }
                events.frame(f);
              },
            }),
        };
        const timers: ProtocolHost["timers"] =
          host.rank === 0 ? { now: () => host.timers.now(), after: (ms, fn) => host.timers.after(ms, fn), every: (ms, fn) => host.timers.every(Math.max(1, ms / fast), fn) } : host.timers;
        const h: ProtocolHost = {
          ...host,
          transport,
          timers,
          trace: (e) => host.trace(e),
          deliver: async (from, payload, opts) => {
            if (!opts.replay) {
              const k = kernelOf(p!);
              const ssn = k.delivered[from]!;
              const x = carried.get(`${from}:${ssn}`);
              deliveries++;
              if (x !== undefined && k.pkIdx < x) violations.push(`rank ${host.rank} delivered ${from}:${ssn} (index ${x}) at index ${k.pkIdx}`);
            }
            return host.deliver(from, payload, opts);
          },
        };
        p = factory.create(h);
        return p;
      },
    },
  };
}

describe("pessimistic logging, co-ordinated checkpoints", () => {
  const ir = loadSpec(COORD, { checkpointIntervalMs: 20, flushIntervalMs: 10 });
  const factory = composeFromIR(ir);
  const app = () => tokenApp({ tokens: 3, hops: 60 });

  it("every rank checkpoints in rank 0's rounds, and each round truncates its event log", async () => {
    const run = await runJob({ factory, app: app(), size: 4, seed: 3, crashes: 0 });
    expect(run.errors).toEqual([]);
    expect(run.done.every((d) => d)).toBe(true);
    const rounds = kernelOf(run.protocols[0]!).pkIdx;
    expect(rounds).toBeGreaterThan(2);
    for (const p of run.protocols) {
      const k = kernelOf(p);
      // Only rank 0 has a timer: the others checkpoint because of the rounds (announce or marker rule).
      expect(k.pkIdx, `rank ${k.host.rank}`).toBeGreaterThanOrEqual(rounds - 1);
      expect(p.stats().checkpoints, `rank ${k.host.rank}`).toBeGreaterThanOrEqual(rounds - 1);
      // The determinants before the last durable round are gone from the log.
      const left = (await k.evLog!.readAll()).length;
      expect(left, `rank ${k.host.rank}: ${left} of ${k.rsn} determinants left`).toBeLessThan(k.rsn / 2);
    }
  });

  it("marker rule: no rank delivers a message of a later round before its checkpoint of that round", async () => {
    const o = observed(factory, 4);
    const run = await runJob({ factory: o.factory, app: app(), size: 4, seed: 5, crashes: 0 });
    expect(run.errors).toEqual([]);
    expect(o.deliveries()).toBeGreaterThan(100);
    expect(o.violations).toEqual([]);
    expect(run.trace.filter((e) => e.type === "protocol" && e.what.startsWith("forced checkpoint")).length).toBeGreaterThan(0);
  });

  it.each([1, 2, 3, 4, 5, 6])("seed %i: crashes match the failure-free run, no survivor rolls back", async (seed) => {
    const ref = await runJob({ factory, app: app(), size: 4, seed, crashes: 0 });
    const run = await runJob({ factory, app: app(), size: 4, seed, crashes: 4, crashWindow: [2, 150], maxConcurrent: 2, restartDelay: 4 + seed });
    expect(run.crashedRanks.length).toBeGreaterThan(0);
    expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
  });
});

describe("pessimistic logging, communication-induced checkpoints", () => {
  const ir = loadSpec(CIC, { checkpointIntervalMs: 20, flushIntervalMs: 10 });
  const factory = composeFromIR(ir);
  const app = () => tokenApp({ tokens: 3, hops: 60 });

  it("a message with a higher index forces a checkpoint with that index before it is delivered", async () => {
    const o = observed(factory, 4);
    const run = await runJob({ factory: o.factory, app: app(), size: 4, seed: 2, crashes: 0 });
    expect(run.errors).toEqual([]);
    expect(o.deliveries()).toBeGreaterThan(100);
    expect(o.violations).toEqual([]);
    const forced = run.trace.filter((e) => e.type === "protocol" && e.what.startsWith("forced checkpoint") && e.rank !== 0);
    expect(forced.length).toBeGreaterThan(3);
  });

  it.each([1, 2, 3, 4, 5, 6])("seed %i: crashes match the failure-free run, no survivor rolls back", async (seed) => {
    const ref = await runJob({ factory, app: app(), size: 4, seed, crashes: 0 });
    const run = await runJob({ factory, app: app(), size: 4, seed, crashes: 4, crashWindow: [2, 150], maxConcurrent: 2, restartDelay: 4 + seed });
    expect(run.crashedRanks.length).toBeGreaterThan(0);
    expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
  });
});
