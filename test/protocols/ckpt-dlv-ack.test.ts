/**
 * Co-ordinated checkpointing saves only what may be in transit
 * (blocks/ckpt-only/dlv-ack.ts): receivers acknowledge deliveries, and a
 * sender's snapshot leaves out what was delivered before the receiver's
 * snapshot of the same index.
 *
 * On a mesh with many messages per channel (acknowledgements flow), every
 * checkpoint written is decoded as it is written:
 *  - safety: for every snapshot k and every channel s → r, each message s
 *    sent before its snapshot k and r had not delivered at its snapshot k
 *    (in transit across line k) is in s's saved buffer;
 *  - the point of it: the saved buffers hold far fewer messages than the
 *    channel carried since the receiver's previous snapshot (what a buffer
 *    trimmed only at commits holds);
 *  - crashes with those trimmed buffers still match the failure-free run.
 */
import { describe, expect, it } from "vitest";
import type { Checkpoint, CheckpointStore, Protocol, ProtocolFactory, ProtocolHost, StorageProvider } from "@egida/runtime-core/spi";
import { compose, kernelOf } from "../../compiler/src/blocks/compose.js";
import { selectForIR } from "../../compiler/src/dev/select-ir.js";
import { outAt, outUnpack, type OutPack } from "../../runtime-core/src/protocol-lib/out-log.js";
import { decodeState } from "../../runtime-core/src/protocol-lib/state-codec.js";
import { runJob } from "./harness.js";
import { tokenApp, type TokenState } from "./apps.js";
import { expectSameAsFailureFree } from "./check.js";
import { loadSpec } from "./spec.js";

const SIZE = 3;
const mesh = (): ReturnType<typeof tokenApp> => tokenApp({ tokens: 6, hops: 1200 });

function finished(states: readonly (TokenState | undefined)[], ps: readonly (Protocol | undefined)[]): boolean {
  return (
    states.every((s) => s !== undefined && s.count === s.expected) &&
    ps.every((p) => p !== undefined && kernelOf(p).cpOut.length === 0 && kernelOf(p).cpPhase === 0)
  );
}

interface Saved {
  readonly idx: number;
  readonly dlv: Uint32Array;
  readonly sent: Uint32Array;
  /** Per destination, the ssns in the saved retransmission buffer. */
  readonly buffered: Set<number>[];
}

/** The factory, with every checkpoint each rank writes decoded (before the store may reuse its bytes). */
function recording(factory: ProtocolFactory): { factory: ProtocolFactory; saved: Saved[][] } {
  const saved: Saved[][] = Array.from({ length: SIZE }, () => []);
  const wrapStore = (rank: number, store: CheckpointStore): CheckpointStore =>
    new Proxy(store, {
      get(target, prop) {
        if (prop === "write") {
          return (ckpt: Checkpoint, opts: { incremental: boolean }) => {
            const state = decodeState(Buffer.from(ckpt.protocol)) as Record<string, unknown>;
            const hist = state["cp.hist"] as { idx: number; dlv: Uint32Array; sent: Uint32Array }[];
            const last = hist[hist.length - 1]!;
            const qs = outUnpack(SIZE, state["cp.outq"] as OutPack[]);
            const buffered = qs.map((q) => {
              const ssns = new Set<number>();
              for (let i = 0; i < q.length; i++) ssns.add(outAt(q, i).ssn);
              return ssns;
            });
            saved[rank]!.push({ idx: last.idx, dlv: Uint32Array.from(last.dlv), sent: Uint32Array.from(last.sent), buffered });
            return target.write(ckpt, opts);
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  const wrapHost = (host: ProtocolHost): ProtocolHost => {
    const storage: StorageProvider = {
      openLog: (medium, name) => host.storage.openLog(medium, name),
      openCheckpoints: async (medium) => wrapStore(host.rank, await host.storage.openCheckpoints(medium)),
    };
    return new Proxy(host, {
      get(target, prop) {
        if (prop === "storage") return storage;
        return Reflect.get(target, prop, target) as unknown;
      },
    });
  };
  return { saved, factory: { protocolName: factory.protocolName, defaultF: factory.defaultF, create: (host) => factory.create(wrapHost(host)) } };
}

/** Co-ordinated checkpointing with acknowledgements every `every` deliveries per channel (null: 64, as specs compile). */
function coordinated(every: number | null): ProtocolFactory {
  const ir = loadSpec("coordinated-checkpointing.egida", { checkpointIntervalMs: 200 });
  const blocks = selectForIR(ir).map((b) => (b.file === "ckpt-only/dlv-ack.ts" && every !== null ? { ...b, params: { ...b.params, "cp.ackEvery": every } } : b));
  expect(blocks.find((b) => b.file === "ckpt-only/dlv-ack.ts")?.params["cp.ackEvery"]).toBe(every ?? 64);
  return compose(blocks, { name: ir.name, defaultF: ir.options.f });
}

/** Checkpoints decoded per line: safety (every message in transit saved) and how much the buffers kept. */
function checkLines(saved: Saved[][]): { lines: number; inTransit: number; kept: number; traffic: number } {
  const at = (rank: number, idx: number): Saved | undefined => saved[rank]!.find((c) => c.idx === idx);
  let lines = 0;
  let inTransit = 0;
  let kept = 0;
  let traffic = 0;
  const maxIdx = Math.max(...saved.flat().map((c) => c.idx));
  for (let k = 1; k <= maxIdx; k++) {
    const line = Array.from({ length: SIZE }, (_, r) => at(r, k));
    if (line.some((c) => c === undefined)) continue;
    lines++;
    for (let s = 0; s < SIZE; s++) {
      for (let r = 0; r < SIZE; r++) {
        if (s === r) continue;
        const cs = line[s]!;
        const cr = line[r]!;
        for (let ssn = cr.dlv[s]! + 1; ssn <= cs.sent[r]!; ssn++) {
          inTransit++;
          expect(cs.buffered[r]!.has(ssn), `line ${k}: ${s} → ${r} ssn ${ssn} in transit but not in ${s}'s snapshot`).toBe(true);
        }
        kept += cs.buffered[r]!.size;
        const before = at(r, k - 1);
        traffic += cs.sent[r]! - (before === undefined ? 0 : before.dlv[s]!);
      }
    }
  }
  return { lines, inTransit, kept, traffic };
}

describe("co-ordinated checkpointing: a snapshot saves what may be in transit across it, and little more", () => {
  it.each([1, 2, 3, 4])("seed %i, as compiled: buffers hold a fraction of the traffic; every message in transit is saved", async (seed) => {
    const rec = recording(coordinated(null));
    const run = await runJob({ factory: rec.factory, app: mesh(), size: SIZE, seed, crashes: 0, finished, maxTime: 20000 });
    expect(run.errors).toEqual([]);
    expect(finished(run.states, run.protocols)).toBe(true);
    const c = checkLines(rec.saved);
    expect(c.lines).toBeGreaterThan(5);
    expect(c.inTransit).toBeGreaterThan(0);
    // Trimmed only at commits, each buffer would hold at least the channel's traffic since the previous line.
    expect(c.kept).toBeLessThan(c.traffic / 4);
  });

  // An acknowledgement per delivery and latencies up to 20 ms: some acknowledgements arrive between
  // the receiver's snapshot and the sender's, for messages delivered after the receiver's snapshot,
  // in transit across it (index above the sender's: applied at a later snapshot, not this one).
  it.each([1, 2, 3, 4, 5, 6])("seed %i, an acknowledgement per delivery: every message in transit is saved", async (seed) => {
    const rec = recording(coordinated(1));
    const run = await runJob({ factory: rec.factory, app: mesh(), size: SIZE, seed, crashes: 0, finished, maxTime: 60000, latency: { min: 0.05, max: 20 } });
    expect(run.errors).toEqual([]);
    expect(finished(run.states, run.protocols)).toBe(true);
    const c = checkLines(rec.saved);
    expect(c.lines).toBeGreaterThan(5);
    expect(c.kept).toBeLessThan(c.traffic / 4);
  });

  it.each([11, 12, 13, 14])("seed %i: 3 crashes with trimmed buffers match the failure-free run (acknowledgements every 64, or 2 on even seeds)", async (seed) => {
    const factory = coordinated(seed % 2 === 0 ? 2 : null);
    const ref = await runJob({ factory, app: mesh(), size: SIZE, seed, crashes: 0, finished, maxTime: 20000 });
    const run = await runJob({ factory, app: mesh(), size: SIZE, seed, crashes: 3, crashWindow: [20, 2500], maxConcurrent: 1, finished, maxTime: 20000 });
    expect(run.crashedRanks.length).toBeGreaterThan(0);
    expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
    expect(finished(run.states, run.protocols)).toBe(true);
  });
});
