/**
 * Checkpoint-only protocols under injected crashes (specs/coordinated-,
 * communication-induced- and independent-checkpointing.egida), on the
 * simulated network with memory storage. Without logs survivors roll back
 * too; each run must still match the failure-free run of the same seed
 * (order-deterministic apps), never release an output twice with different
 * contents, and every recovery must restore a consistent cut.
 */
import { describe, expect, it } from "vitest";
import type { Protocol, TraceEvent } from "@egida/runtime-core/spi";
import { kernelOf } from "../../compiler/src/blocks/compose.js";
import { runJob, type JobResult } from "./harness.js";
import { tokenApp, type TokenState } from "./apps.js";
import { expectSameAsFailureFree } from "./check.js";
import { loadSpec } from "./spec.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

const SPECS = [
  ["co-ordinated (snapshot markers, rollback of everyone)", "coordinated-checkpointing.egida"],
  ["communication-induced (BCS index)", "communication-induced-checkpointing.egida"],
  ["independent (rollback propagation)", "independent-checkpointing.egida"],
] as const;

/** Over when every rank has all its deliveries, every output is released, and no round is running. */
function finished(states: readonly (TokenState | undefined)[], ps: readonly (Protocol | undefined)[]): boolean {
  return (
    states.every((s) => s !== undefined && s.count === s.expected) &&
    ps.every((p) => p !== undefined && kernelOf(p).cpOut.length === 0 && kernelOf(p).cpPhase === 0)
  );
}

interface LineState {
  round: number;
  key: number;
  sent: number[];
  dlv: number[];
}

/**
 * From the traces: for every recovery round that every rank reached, the
 * restored global state is a consistent cut: no rank has delivered more
 * messages on a channel than the sender's restored state has sent on it.
 */
function checkCuts(trace: readonly TraceEvent[], size: number): number {
  const rounds = new Map<number, (LineState | undefined)[]>();
  for (const e of trace) {
    if (e.type !== "protocol" || !e.what.startsWith("cp-line ")) continue;
    const st = JSON.parse(e.what.slice(8)) as LineState;
    let r = rounds.get(st.round);
    if (r === undefined) rounds.set(st.round, (r = new Array<LineState | undefined>(size).fill(undefined)));
    r[e.rank] = st;
  }
  let checked = 0;
  for (const [round, line] of rounds) {
    if (line.some((x) => x === undefined)) continue; // superseded by a later round before every rank got there
    for (let p = 0; p < size; p++) {
      for (let q = 0; q < size; q++) {
        if (p !== q) expect(line[q]!.dlv[p], `round ${round}: ${q} delivered from ${p} beyond what ${p} sent`).toBeLessThanOrEqual(line[p]!.sent[q]!);
      }
    }
    checked++;
  }
  return checked;
}

function rollbacks(run: JobResult<TokenState>): number {
  return run.trace.filter((e) => e.type === "rollback").length;
}

describe.each(SPECS)("%s", (_title, file) => {
  // Short checkpoint interval so crashes land before, between and during checkpoints and rounds.
  const ir = loadSpec(file, { checkpointIntervalMs: 20 });
  const factory = composeFromIR(ir);
  const apps = {
    ring: () => tokenApp({ tokens: 1, hops: 60, origins: [0] }),
    mesh: () => tokenApp({ tokens: 3, hops: 25 }),
  };
  const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);

  for (const [appName, mk] of Object.entries(apps)) {
    it(`${appName}: failure-free run completes, releases every output, takes checkpoints`, async () => {
      const ref = await runJob({ factory, app: mk(), size: 4, seed: 1, crashes: 0, finished, maxTime: 5000 });
      expect(ref.errors).toEqual([]);
      expect(finished(ref.states, ref.protocols)).toBe(true);
      expect(ref.outputs.size).toBeGreaterThan(0);
      expect(rollbacks(ref)).toBe(0);
      expect(ref.trace.filter((e) => e.type === "checkpoint").length).toBeGreaterThan(8);
    });

    it.each(SEEDS)(`${appName}: seed %i, 3 crashes match the failure-free run; cuts consistent`, async (seed) => {
      const ref = await runJob({ factory, app: mk(), size: 4, seed, crashes: 0, finished, maxTime: 5000 });
      const run = await runJob({ factory, app: mk(), size: 4, seed, crashes: 3, crashWindow: [2, 150], maxConcurrent: 1, finished, maxTime: 5000 });
      expect(run.crashedRanks.length).toBeGreaterThan(0);
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
      expect(finished(run.states, run.protocols)).toBe(true);
      expect(checkCuts(run.trace, 4)).toBeGreaterThan(0);
    });
  }

  // Many crashes, several at once, re-crashes during recovery rounds (short restart delays), 5 ranks.
  it("stress: 20 seeds × 8 crashes, up to 3 concurrent, crashes during recovery", async () => {
    let rounds = 0;
    let rolled = 0;
    for (let seed = 100; seed < 120; seed++) {
      const mk = () => tokenApp({ tokens: 3, hops: 30 });
      const ref = await runJob({ factory, app: mk(), size: 5, seed, crashes: 0, finished, maxTime: 5000 });
      const run = await runJob({
        factory,
        app: mk(),
        size: 5,
        seed,
        crashes: 8,
        crashWindow: [1, 200],
        maxConcurrent: 3,
        restartDelay: 1 + (seed % 12),
        finished,
        maxTime: 8000,
      });
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
      expect(finished(run.states, run.protocols)).toBe(true);
      rounds += checkCuts(run.trace, 5);
      rolled += rollbacks(run);
    }
    expect(rounds).toBeGreaterThan(40);
    expect(rolled).toBeGreaterThan(100);
  });

  // A long run: storage stays bounded (committed lines garbage-collect checkpoints and retransmission buffers).
  it("bounded storage over a long run with crashes", async () => {
    const app = tokenApp({ tokens: 2, hops: 400 });
    const run = await runJob({ factory, app, size: 4, seed: 7, crashes: 4, crashWindow: [50, 400], finished, maxTime: 20000 });
    const ref = await runJob({ factory, app: tokenApp({ tokens: 2, hops: 400 }), size: 4, seed: 7, crashes: 0, finished, maxTime: 20000 });
    expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
    const taken = run.trace.filter((e) => e.type === "checkpoint").length;
    expect(taken).toBeGreaterThan(100);
    for (const p of run.protocols) {
      const k = kernelOf(p);
      expect((await k.ckptStore!.list()).length).toBeLessThanOrEqual(4);
      expect(k.cpHist.length).toBeLessThanOrEqual(4);
      expect(k.outq.reduce((n, q) => n + q.length, 0)).toBeLessThan(20);
    }
  });
});
