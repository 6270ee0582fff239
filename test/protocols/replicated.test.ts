/**
 * Fig 4b (`Log determinant synchronously on volatile memory of processes`)
 * on the real replicated log (runtime-core/src/storage/replicated.ts, wired
 * by runSimJob): `sync()` waits for f acknowledgements carried by runtime
 * control frames; a recovering rank fetches its records back from its f
 * replicas. The determinants exist nowhere else (the origin's copy dies with
 * it), so every replayed delivery below was recovered from peers.
 *
 *  - f = 1: seeded crashes, one rank down at a time;
 *  - f = 2: an origin and its first replica killed together, repeatedly;
 *  - beyond f (f = 1, origin and its only replica together): the records are
 *    gone. The recovering rank's fetch finds no complete copy and the job
 *    fails as unrecoverable (exit 3 under egida-run); it must never retract
 *    an output or finish silently wrong.
 */
import { describe, expect, it } from "vitest";
import { kernelOf } from "../../compiler/src/blocks/compose.js";
import type { KillSpec } from "../../runtime-core/src/launcher/options.js";
import { ReplicatedLog } from "../../runtime-core/src/storage/replicated.js";
import { tokenApp, type TokenState } from "./apps.js";
import { expectSameAsFailureFree } from "./check.js";
import { counterEnv, readApp, readProblems } from "./read-app.js";
import { maxConcurrentDown, runRealJob, type RealJobResult } from "./realhost-job.js";
import { loadSpec } from "./spec.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

const ir = (f: number) => loadSpec("fig4b-f-replicated.egida", { checkpointIntervalMs: 20, flushIntervalMs: 5, f });
const mesh = () => tokenApp({ tokens: 3, hops: 50 });

/** Kill `group` consecutive ranks (an origin and its first replicas) together, every `gap` virtual ms. */
function groupKills(seed: number, size: number, span: number, group: number, gap: number): KillSpec[] {
  const kills: KillSpec[] = [];
  let k = 0;
  for (let at = 3 + (seed % 7); at < span; at += gap, k++) {
    const first = (seed * 3 + k * 2) % size;
    for (let i = 0; i < group; i++) {
      const rank = (first + i) % size;
      kills.push({ rank, atMs: Math.round(at), text: `${rank}@${Math.round(at)}ms` });
    }
  }
  return kills;
}

/** Deliveries replayed by recovered incarnations, and a check that every log is the real replicated one. */
function replayedFromPeers<S>(run: RealJobResult<S>): number {
  let n = 0;
  for (const i of run.incarnations) {
    const k = kernelOf(i.protocol);
    expect(k.evLog).toBeInstanceOf(ReplicatedLog);
    expect(k.rdLog).toBeInstanceOf(ReplicatedLog);
    if (i.incarnation > 0 && i.live) n += k.replayed;
  }
  return n;
}

function sameAsFailureFree(ref: RealJobResult<TokenState>, run: RealJobResult<TokenState>): boolean {
  try {
    expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
    return true;
  } catch {
    return false;
  }
}

describe("Fig 4b on the real replicated log", () => {
  it("f = 1, 4 ranks, 12 seeds: one rank down at a time; determinants come back from the replica", async () => {
    const factory = composeFromIR(ir(1));
    let replayed = 0;
    let kills = 0;
    for (let seed = 201; seed <= 212; seed++) {
      const ref = await runRealJob({ factory, app: mesh(), size: 4, seed });
      expect(ref.errors).toEqual([]);
      const run = await runRealJob({ factory, app: mesh(), size: 4, seed, kills: groupKills(seed, 4, ref.time, 1, 28), restartDelayMs: 2 + (seed % 10) });
      expect(maxConcurrentDown(run.downtimes)).toBeLessThanOrEqual(1);
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
      replayed += replayedFromPeers(run);
      kills += run.kills;
    }
    console.log(`replicated f=1: ${kills} kills, ${replayed} deliveries replayed from determinants fetched from replicas`);
    expect(kills).toBeGreaterThan(40);
    expect(replayed).toBeGreaterThan(20);
  });

  it("f = 2, 5 ranks, 10 seeds: an origin and its first replica die together", async () => {
    const factory = composeFromIR(ir(2));
    let replayed = 0;
    let concurrent = 0;
    for (let seed = 301; seed <= 310; seed++) {
      const ref = await runRealJob({ factory, app: mesh(), size: 5, seed });
      expect(ref.errors).toEqual([]);
      const run = await runRealJob({ factory, app: mesh(), size: 5, seed, kills: groupKills(seed, 5, ref.time, 2, 35), restartDelayMs: 2 + (seed % 10) });
      const down = maxConcurrentDown(run.downtimes);
      expect(down).toBeLessThanOrEqual(2);
      if (down === 2) concurrent++;
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
      replayed += replayedFromPeers(run);
    }
    console.log(`replicated f=2: ${concurrent}/10 runs with 2 ranks down at once, ${replayed} deliveries replayed from replicas`);
    expect(concurrent).toBeGreaterThan(5);
    expect(replayed).toBeGreaterThan(10);
  });

  it("f = 2: a reading app keeps its read values across paired crashes", async () => {
    const factory = composeFromIR(ir(2));
    for (let seed = 401; seed <= 406; seed++) {
      const mk = () => readApp({ tokens: 2, hops: 40, env: counterEnv() });
      const ref = await runRealJob({ factory, app: mk(), size: 5, seed });
      const run = await runRealJob({ factory, app: mk(), size: 5, seed, kills: groupKills(seed, 5, ref.time, 2, 35), restartDelayMs: 4 });
      expect(run.kills).toBeGreaterThan(0);
      expect(run.errors).toEqual([]);
      expect(run.retractions).toEqual([]);
      expect(run.survivorRollbacks).toBe(0);
      expect(readProblems(run.states, run.outputs, 5)).toEqual([]);
    }
  });

  it("beyond f (f = 1, origin and its only replica together): unrecoverable, never a retraction or a silently wrong result", async () => {
    const factory = composeFromIR(ir(1));
    let unrecoverable = 0;
    for (let seed = 501; seed <= 508; seed++) {
      const ref = await runRealJob({ factory, app: mesh(), size: 4, seed });
      const run = await runRealJob({ factory, app: mesh(), size: 4, seed, kills: groupKills(seed, 4, ref.time, 2, ref.time / 3), restartDelayMs: 5, settleMs: 300 });
      // The replicated log detects the loss at the fetch, before any replay: no output can differ.
      expect(run.retractions).toEqual([]);
      if (run.errors.length > 0) {
        expect(run.errors[0]).toMatch(/^unrecoverable: rank \d+ cannot recover replicated log "\w+": no replica holds a complete copy; rank \d+ \(incarnation \d+\) restarted/);
        unrecoverable++;
      } else expect(sameAsFailureFree(ref, run)).toBe(true);
    }
    console.log(`replicated beyond f: ${unrecoverable}/8 runs unrecoverable, the rest matched the failure-free run`);
    // The records lived only on the two dead processes: some runs must notice.
    expect(unrecoverable).toBeGreaterThan(0);
  });
});
