/**
 * Optimistic logging (Fig 3a, Damani–Garg) under injected crashes, on the
 * simulated network with memory storage (unsynced log tails are lost in a
 * crash, so a crash before the asynchronous flush loses states others may
 * already depend on: orphans).
 *
 * The app routes tokens like test/protocols/apps.ts (order-deterministic
 * final digest, count and outputs, compared with the failure-free run), and
 * also stamps every message with a hash of the sender's delivery history so
 * far (order-DEPENDENT). Each rank records the stamps of its n-th send to
 * and n-th receive from every peer in its state, so the final states are
 * checked for consistency directly: every message delivered in a surviving
 * history was sent, with that very stamp, in its sender's surviving history
 * (an orphan that failed to roll back would keep a message whose sender's
 * re-execution sent a different one). Plus: no retraction at the sink, no
 * duplicate delivery, every rank done, and every process's history free of
 * dependencies on lost states with everyone knowing every incarnation end.
 */
import { describe, expect, it } from "vitest";
import type { App } from "@egida/runtime-core/spi";
import { composeFromIR, kernelOf } from "../../compiler/src/blocks/compose.js";
import { runJob, type JobResult } from "./harness.js";
import type { TokenState } from "./apps.js";
import { expectSameAsFailureFree } from "./check.js";
import { loadSpec } from "./spec.js";

interface StampState extends TokenState {
  hist: number;
  sent: Record<string, number>;
  recv: Record<string, number>;
  nSent: number[];
  nRecv: number[];
}

interface Token {
  origin: number;
  id: number;
  hops: number;
  stamp: number;
}

function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function next(at: number, t: { origin: number; id: number; hops: number }, size: number): number {
  return (at + 1 + ((t.origin * 7 + t.id * 3 + t.hops) % (size - 1))) % size;
}

function stampApp(opts: { tokens: number; hops: number; writeEvery: number; origins?: number[] }): App<StampState> {
  const originsOf = (size: number): number[] => opts.origins ?? Array.from({ length: size }, (_, i) => i);
  const expectedFor = (rank: number, size: number): number => {
    let n = 0;
    for (const o of originsOf(size)) {
      for (let id = 0; id < opts.tokens; id++) {
        let at = o;
        for (let h = 1; h <= opts.hops; h++) {
          at = next(at, { origin: o, id, hops: h - 1 }, size);
          if (at === rank) n++;
        }
      }
    }
    return n;
  };
  const send = (s: StampState, ctx: { send(to: number, d: unknown): void }, to: number, t: Omit<Token, "stamp">): void => {
    const n = s.nSent[to]! + 1;
    s.nSent[to] = n;
    s.sent[`${to}:${n}`] = s.hist;
    ctx.send(to, { ...t, stamp: s.hist });
  };
  return {
    init: ({ rank, size }) => ({
      rank,
      size,
      digest: 0,
      count: 0,
      expected: expectedFor(rank, size),
      seen: {},
      dups: 0,
      hist: rank + 1,
      sent: {},
      recv: {},
      nSent: new Array<number>(size).fill(0),
      nRecv: new Array<number>(size).fill(0),
    }),
    onStart(s, ctx) {
      if (s.expected === 0) ctx.done();
      if (!originsOf(s.size).includes(s.rank)) return;
      for (let id = 0; id < opts.tokens; id++) send(s, ctx, next(s.rank, { origin: s.rank, id, hops: 0 }, s.size), { origin: s.rank, id, hops: 1 });
    },
    async onMessage(s, msg, ctx) {
      const t = msg.data as Token;
      const key = `${t.origin}.${t.id}.${t.hops}`;
      if (s.seen[key]) s.dups++;
      s.seen[key] = true;
      s.count++;
      s.digest = (s.digest + mix(t.origin * 1000 + t.id, t.hops)) >>> 0;
      const n = s.nRecv[msg.from]! + 1;
      s.nRecv[msg.from] = n;
      s.recv[`${msg.from}:${n}`] = t.stamp;
      s.hist = mix(s.hist, mix(msg.from, t.stamp));
      if (t.hops % opts.writeEvery === 0) await ctx.write({ at: s.rank, key });
      if (t.hops < opts.hops) send(s, ctx, next(s.rank, t, s.size), { origin: t.origin, id: t.id, hops: t.hops + 1 });
      if (s.count === s.expected) ctx.done();
    },
  };
}

/** Consistency of the final states (no orphan survived) and of the incarnation-end tables. */
function expectConsistent(run: JobResult<StampState>): void {
  const n = run.states.length;
  for (let r = 0; r < n; r++) {
    const st = run.states[r]!;
    for (let from = 0; from < n; from++) {
      for (let k = 1; k <= st.nRecv[from]!; k++) {
        // Received n-th from `from` with this stamp ⇒ `from` sent its n-th message to r with it.
        expect(run.states[from]!.sent[`${r}:${k}`], `rank ${r} holds message ${k} from ${from} that ${from}'s history did not send`).toBe(st.recv[`${from}:${k}`]);
      }
    }
  }
  const ks = run.protocols.map((p) => kernelOf(p));
  for (let j = 0; j < n; j++) {
    // Everyone learned every incarnation end of j (j's own table is authoritative).
    for (const k of ks) expect(k.optEnds[j]).toEqual(ks[j]!.optEnds[j]);
  }
  for (const k of ks) {
    for (const m of k.optHist) {
      for (let x = 0; x < n; x++) {
        const c = m.pb[1 + x]!;
        const e = ks[x]!.optEnds[x]!;
        expect(c < e.length && m.pb[1 + n + x]! > e[c]!, `rank ${k.host.rank} still depends on a lost state of ${x}`).toBe(false);
      }
    }
  }
}

const rollbacks = (run: JobResult<StampState>): number => run.trace.filter((e) => e.type === "rollback").length;

describe("Fig 3a optimistic logging (Damani–Garg)", () => {
  const apps = {
    ring: () => stampApp({ tokens: 1, hops: 60, writeEvery: 3, origins: [0] }),
    mesh: () => stampApp({ tokens: 3, hops: 25, writeEvery: 5 }),
  };
  // The spec's 100 ms flush: crashes land before most flushes, so states others depend on are lost.
  const factory = composeFromIR(loadSpec("fig3a-damani-garg.egida", { flushIntervalMs: 100 }));
  const SEEDS = Array.from({ length: 12 }, (_, i) => i + 1);

  for (const [appName, mk] of Object.entries(apps)) {
    it(`${appName}: failure-free run completes`, async () => {
      const ref = await runJob({ factory, app: mk(), size: 4, seed: 1, crashes: 0 });
      expect(ref.errors).toEqual([]);
      expect(ref.done.every((d) => d)).toBe(true);
      expect(rollbacks(ref)).toBe(0);
      expectConsistent(ref);
    });

    it.each(SEEDS)(`${appName}: seed %i, 3 crashes match the failure-free run`, async (seed) => {
      const ref = await runJob({ factory, app: mk(), size: 4, seed, crashes: 0 });
      const run = await runJob({ factory, app: mk(), size: 4, seed, crashes: 3, crashWindow: [2, 150], maxConcurrent: 1 });
      expect(run.crashedRanks.length).toBeGreaterThan(0);
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
      expectConsistent(run);
    });
  }

  // A constructed orphan: one token circulates; the flush timer (1 s) never fires before the
  // crash at 30 ms and nothing is written before hop 40 (no output commit flushes), so the
  // victim's deliveries are all unlogged. It has received and forwarded the token by then
  // (60 hops at ≤ 3 ms per hop pass every rank), so the rank it forwarded to depends on a
  // lost state: it must be detected as an orphan and roll back, and the run still be right.
  it.each([1, 2, 3, 4, 5, 6, 7, 8])("constructed orphan: crash before the asynchronous flush (seed %i)", async (seed) => {
    const orphanFactory = composeFromIR(loadSpec("fig3a-damani-garg.egida", { flushIntervalMs: 1000 }));
    const mk = () => stampApp({ tokens: 1, hops: 60, writeEvery: 40, origins: [0] });
    const ref = await runJob({ factory: orphanFactory, app: mk(), size: 4, seed, crashes: 0 });
    const run = await runJob({ factory: orphanFactory, app: mk(), size: 4, seed, crashes: 1, crashWindow: [30, 30], maxConcurrent: 1 });
    expect(run.crashedRanks.length).toBe(1);
    const victim = run.crashedRanks[0]!;
    const rb = run.trace.filter((e) => e.type === "rollback");
    expect(rb.length).toBeGreaterThan(0);
    // An orphan (a survivor, not the victim) detected the lost state and rolled back.
    expect(rb.some((e) => e.rank !== victim)).toBe(true);
    expect(run.survivorRollbacks).toBeGreaterThan(0);
    expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
    expectConsistent(run);
  });

  // Many crashes, several at once, re-crashes during recovery and during rollbacks.
  it("stress: 20 seeds × 8 crashes, up to 3 concurrent", async () => {
    let recovered = 0;
    let rolled = 0;
    for (let seed = 100; seed < 120; seed++) {
      const mk = () => stampApp({ tokens: 3, hops: 30, writeEvery: 4 });
      const ref = await runJob({ factory, app: mk(), size: 5, seed, crashes: 0 });
      const run = await runJob({ factory, app: mk(), size: 5, seed, crashes: 8, crashWindow: [1, 200], maxConcurrent: 3, restartDelay: 3 + (seed % 20) });
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
      expectConsistent(run);
      recovered += run.recovered;
      rolled += rollbacks(run);
    }
    console.log(`optimistic stress: ${recovered} recoveries, ${rolled} rollbacks`);
    expect(recovered).toBeGreaterThan(60);
  });
});
