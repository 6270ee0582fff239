/**
 * A sender-based message log on storage that survives the sender
 * (blocks/log/send-log.ts; Fig 4a with its sender log on NFS disk and two
 * variants; specs/pessimistic-coordinated.egida has it with co-ordinated
 * checkpoints): what it promises, observed on the composed protocol in the
 * simulated job harness.
 *
 * - synchronous: no App frame leaves before its record in the `sends` log is
 *   durable (a wrapped LogStore tracks which lsns a resolved sync covers; a
 *   wrapped transport checks every first transmission against it);
 * - every message sent since the last durable checkpoint is in the log, and
 *   checkpoints truncate it;
 * - crashes: the runs match the failure-free run, no survivor rolls back,
 *   for NFS (synchronous), local disk (asynchronous) and volatile memory of
 *   processes (the harness's replicated-log stand-in).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { kernelOf } from "../../compiler/src/blocks/compose.js";
import { outAt } from "../../runtime-core/src/protocol-lib/out-log.js";
import { decodeState } from "../../runtime-core/src/protocol-lib/state-codec.js";
import type { LogStore, Protocol, ProtocolFactory, ProtocolHost } from "@egida/runtime-core/spi";
import { parseSpec } from "../../compiler/src/frontend.js";
import { builtinRegistry } from "../../compiler/src/registry/builtin-registry.js";
import type { ProtocolIR } from "../../compiler/src/ir/types.js";
import { runJob } from "./harness.js";
import { tokenApp } from "./apps.js";
import { expectSameAsFailureFree } from "./check.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

const NFS = readFileSync(join(import.meta.dirname, "../../specs/fig4a-sby.egida"), "utf8").replace("send: Log message synchronously on volatile memory of self", "send: Log message synchronously on NFS disk");
const VARIANTS = [
  ["NFS disk, synchronously", NFS],
  ["local disk, asynchronously", NFS.replace("send: Log message synchronously on NFS disk", "send: Log message asynchronously on local disk")],
  ["volatile memory of processes, synchronously", NFS.replace("send: Log message synchronously on NFS disk", "send: Log message synchronously on volatile memory of processes")],
] as const;

function irOf(text: string, checkpointIntervalMs = 20): ProtocolIR {
  const { ir, diagnostics } = parseSpec(text, "sender-log.egida", builtinRegistry());
  if (ir === null) throw new Error(diagnostics.map((d) => d.message).join("; "));
  return { ...ir, options: { ...ir.options, checkpointIntervalMs, flushIntervalMs: 10 } };
}

/** Wraps the factory: checks that each App frame's first transmission follows the durable sync of its record. */
function observed(factory: ProtocolFactory): { factory: ProtocolFactory; violations: string[]; sent: () => number } {
  const violations: string[] = [];
  let sent = 0;
  return {
    violations,
    sent: () => sent,
    factory: {
      protocolName: factory.protocolName,
      defaultF: factory.defaultF,
      create(host: ProtocolHost): Protocol {
        const lsnOf = new Map<string, number>();
        const seen = new Set<string>();
        let durable = 0;
        const wrapLog = (log: LogStore): LogStore => ({
          get medium() {
            return log.medium;
          },
          get nextLsn() {
            return log.nextLsn;
          },
          get stats() {
            return log.stats;
          },
          append: (data) => {
            const lsn = log.append(data);
            const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
            lsnOf.set(`${dv.getUint32(0, true)}:${dv.getUint32(4, true)}`, lsn);
            return lsn;
          },
          sync: async () => {
            const upTo = log.nextLsn;
            await log.sync();
            if (upTo > durable) durable = upTo;
          },
          readAll: () => log.readAll(),
          truncatePrefix: (lsn) => log.truncatePrefix(lsn),
          close: () => log.close(),
        });
        const h: ProtocolHost = {
          ...host,
          trace: (e) => host.trace(e),
          storage: {
            openLog: async (m, name) => (name === "sends" ? wrapLog(await host.storage.openLog(m, name)) : host.storage.openLog(m, name)),
            openCheckpoints: (m) => host.storage.openCheckpoints(m),
          },
          transport: {
            rank: host.transport.rank,
            size: host.transport.size,
            on: (ev) => host.transport.on(ev),
            close: () => host.transport.close(),
            send: (to, frame) => {
              if ((frame.kind as number) === 1) {
                const ssn = new DataView(frame.piggyback.buffer, frame.piggyback.byteOffset, 4).getUint32(0, true);
                const key = `${to}:${ssn}`;
                if (!seen.has(key)) {
                  seen.add(key);
                  sent++;
                  const lsn = lsnOf.get(key);
                  // Incarnation 0 only: a restarted rank's first sends are replays of logged records.
                  if (host.incarnation === 0 && (lsn === undefined || lsn >= durable)) violations.push(`rank ${host.rank} sent ${key} before its record (lsn ${lsn}) was durable (< ${durable})`);
                }
              }
              host.transport.send(to, frame);
            },
          },
        };
        return factory.create(h);
      },
    },
  };
}

describe("pessimistic logging, sender log on NFS disk", () => {
  const factory = composeFromIR(irOf(NFS));
  const app = () => tokenApp({ tokens: 3, hops: 60 });

  it("a message leaves only once its record is durable", async () => {
    const o = observed(factory);
    const run = await runJob({ factory: o.factory, app: app(), size: 4, seed: 4, crashes: 0 });
    expect(run.errors).toEqual([]);
    expect(run.done.every((d) => d)).toBe(true);
    expect(o.sent()).toBeGreaterThan(100);
    expect(o.violations).toEqual([]);
  });

  it("every send since the last checkpoint is in the log, and checkpoints truncate it", async () => {
    // Stopped mid-job (maxTime), so the last checkpoints do not cover every send.
    // The run stops at virtual 200 ms (the harness runs 25 ms steps, then 50): checkpoints every 30 ms, the last at 180.
    const run = await runJob({ factory: composeFromIR(irOf(NFS, 30)), app: tokenApp({ tokens: 3, hops: 400 }), size: 4, seed: 6, crashes: 0, maxTime: 130 });
    expect(run.errors).toEqual([]);
    let after = 0;
    for (const p of run.protocols) {
      const k = kernelOf(p);
      const recs = await k.slLog!.readAll();
      // The latest durable checkpoint holds the buffer up to its ssns; the log holds exactly the sends after them.
      const c = (await k.ckptStore!.latest())!;
      const ckSsn = (decodeState(c.protocol) as Record<string, unknown>)["core.ssn"] as Uint32Array;
      const logged: string[] = [];
      for (const r of recs) {
        const dv = new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength);
        logged.push(`${dv.getUint32(0, true)}:${dv.getUint32(4, true)}`);
      }
      const expected: string[] = [];
      for (let j = 0; j < k.host.size; j++) for (let n = ckSsn[j]! + 1; n <= k.ssn[j]!; n++) expected.push(`${j}:${n}`);
      expect(logged.sort(), `rank ${k.host.rank}`).toEqual(expected.sort());
      after += expected.length;
      const total = k.ssn.reduce((a, b) => a + b, 0);
      expect(p.stats().checkpoints).toBeGreaterThan(1);
      expect(recs.length, `rank ${k.host.rank}`).toBeLessThan(total);
    }
    expect(after).toBeGreaterThan(0);
  });
});

/**
 * Wraps the factory: remembers, across incarnations, the highest ssn each rank transmitted to each
 * peer; when a restarted rank announces itself (its first TAG_RECOVER), its buffer must hold every
 * message after its restored checkpoint up to that ssn (they come from the log: replay has not run yet).
 */
function recovering(factory: ProtocolFactory): { factory: ProtocolFactory; checked: () => number; violations: string[] } {
  const lastTx = new Map<string, number>();
  const violations: string[] = [];
  let checked = 0;
  return {
    violations,
    checked: () => checked,
    factory: {
      protocolName: factory.protocolName,
      defaultF: factory.defaultF,
      create(host: ProtocolHost): Protocol {
        let p: Protocol | undefined;
        let announced = false;
        const h: ProtocolHost = {
          ...host,
          trace: (e) => host.trace(e),
          transport: {
            rank: host.transport.rank,
            size: host.transport.size,
            on: (ev) => host.transport.on(ev),
            close: () => host.transport.close(),
            send: (to, frame) => {
              const key = `${host.rank}>${to}`;
              if ((frame.kind as number) === 1) {
                const ssn = new DataView(frame.piggyback.buffer, frame.piggyback.byteOffset, 4).getUint32(0, true);
                if (ssn > (lastTx.get(key) ?? 0)) lastTx.set(key, ssn);
              } else if (frame.tag === 1 && host.incarnation > 0 && !announced) {
                announced = true;
                const k = kernelOf(p!);
                for (let j = 0; j < host.size; j++) {
                  const q = k.outq[j]!;
                  const have = new Set<number>();
                  for (let i = 0; i < q.length; i++) have.add(outAt(q, i).ssn);
                  for (let n = k.ssn[j]! + 1; n <= (lastTx.get(`${host.rank}>${j}`) ?? 0); n++) {
                    checked++;
                    if (!have.has(n)) violations.push(`rank ${host.rank} incarnation ${host.incarnation}: ${j}:${n} not in the buffer at its announcement`);
                  }
                }
              }
              host.transport.send(to, frame);
            },
          },
        };
        p = factory.create(h);
        return p;
      },
    },
  };
}

describe("sender log on NFS disk: recovery", () => {
  it("a restarted sender's buffer holds what it sent after its checkpoint before it replays", async () => {
    let checked = 0;
    for (const seed of [1, 2, 3, 4]) {
      const o = recovering(composeFromIR(irOf(NFS, 30)));
      const run = await runJob({ factory: o.factory, app: tokenApp({ tokens: 3, hops: 60 }), size: 4, seed, crashes: 4, crashWindow: [10, 150], maxConcurrent: 1 });
      expect(run.errors).toEqual([]);
      expect(o.violations).toEqual([]);
      checked += o.checked();
    }
    expect(checked).toBeGreaterThan(10);
  });
});

describe.each(VARIANTS)("sender log on %s: crashes", (_name, text) => {
  const factory = composeFromIR(irOf(text));
  const app = () => tokenApp({ tokens: 3, hops: 60 });
  it.each([1, 2, 3, 4, 5, 6])("seed %i: matches the failure-free run, no survivor rolls back", async (seed) => {
    const ref = await runJob({ factory, app: app(), size: 4, seed, crashes: 0 });
    const run = await runJob({ factory, app: app(), size: 4, seed, crashes: 4, crashWindow: [2, 150], maxConcurrent: text.includes("processes") ? 1 : 2, restartDelay: 4 + seed });
    expect(run.crashedRanks.length).toBeGreaterThan(0);
    expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
  });
});
