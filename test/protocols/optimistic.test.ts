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
 *
 * With `env`, the app also reads (`ctx.read`) a value from the environment
 * in onStart and on every delivery before it forwards, and folds it into its
 * history hash, so every stamp it sends depends on what it read. The
 * environment is a counter outside the process (test/protocols/read-app.ts):
 * calling `produce` again on replay gives another value. A read whose value
 * was lost in a crash (not yet flushed) must make every state after it lost,
 * so the peers holding stamps derived from it are orphans and roll back;
 * otherwise the consistency check finds a message its sender's surviving
 * history did not send.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { App } from "@egida/runtime-core/spi";
import { kernelOf } from "../../compiler/src/blocks/compose.js";
import { UnsupportedProtocolError } from "../../compiler/src/blocks/select.js";
import { parse } from "../../compiler/src/parse/parse.js";
import { lower } from "../../compiler/src/passes/lower.js";
import { builtinRegistry } from "../../compiler/src/registry/builtin-registry.js";
import type { ProtocolIR } from "../../compiler/src/ir/types.js";
import { runJob, type JobResult } from "./harness.js";
import { expectSameAsFailureFree } from "./check.js";
import { loadSpec } from "./spec.js";
import { counterEnv } from "./read-app.js";
import { expectConsistent, stampApp, type StampState } from "./stamp-app.js";
import { composeFromIR, selectForIR } from "../../compiler/src/dev/select-ir.js";

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

  describe("reads: selection", () => {
    /** Fig 3a with a read statement after the receive statement. */
    const withRead = (read: string): ProtocolIR => {
      const text = `receive: determinant : {source, sesn, dest, desn}
Log determinant, data asynchronously on NFS disk
${read}
Co-ordinated output commit on write
send: Piggyback vector clock
Protocol to detect orphans : broadcast logical clock
On rollback: Log determinant, message on NFS disk
`;
      const p = parse(text, "inline.egida");
      if (p.ast === null) throw new Error(p.diagnostics.map((d) => d.message).join("; "));
      const { ir, diagnostics } = lower(p.ast, "inline.egida", builtinRegistry());
      if (ir === null) throw new Error(diagnostics.map((d) => d.message).join("; "));
      return ir;
    };
    const logBlock = (ir: ProtocolIR) => selectForIR(ir).find((b) => b.file === "optimistic/async-log.ts");

    it("Fig 3a (no read statement) logs reads in its asynchronous log, and no other read logger is selected", () => {
      const blocks = selectForIR(loadSpec("fig3a-damani-garg.egida"));
      expect(blocks.find((b) => b.file === "optimistic/async-log.ts")?.reason).toMatch(/read values/);
      expect(blocks.some((b) => b.file === "log/read-log.ts")).toBe(false);
    });

    it("a read statement logging asynchronously on the same medium is the same log", () => {
      expect(logBlock(withRead("read: determinant : {dest, desn}\nLog determinant asynchronously on NFS disk"))?.params).toEqual({ "log.medium": "nfs-disk" });
    });

    it.each([
      ["read: determinant : {dest, desn}\nLog determinant synchronously on NFS disk", /synchronous read logging/],
      ["read: determinant : {dest, desn}\nLog determinant asynchronously on local disk", /read determinants on local-disk/],
    ])("refused, not weakened: %s", (read, why) => {
      const ir = withRead(read);
      expect(() => selectForIR(ir)).toThrow(UnsupportedProtocolError);
      expect(() => selectForIR(ir)).toThrow(why);
    });
  });

  describe("reads: ctx.read values go into the asynchronous log", () => {
    /** counterEnv, counting how often each rank's `produce` ran. */
    const countingEnv = (): { env: (rank: number) => number; calls: number[] } => {
      const env = counterEnv();
      const calls = [0, 0, 0, 0, 0, 0];
      return { env: (r) => (calls[r]!++, env(r)), calls };
    };

    it.each(SEEDS)("mesh that reads: seed %i, 3 crashes match the failure-free run", async (seed) => {
      const mk = () => stampApp({ tokens: 3, hops: 25, writeEvery: 5, env: counterEnv() });
      const ref = await runJob({ factory, app: mk(), size: 4, seed, crashes: 0 });
      const run = await runJob({ factory, app: mk(), size: 4, seed, crashes: 3, crashWindow: [2, 150], maxConcurrent: 1 });
      expect(run.crashedRanks.length).toBeGreaterThan(0);
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
      expectConsistent(run);
    });

    // A read lost in the crash: every hop reads after its write and before it forwards, writes
    // come only every 40 hops and the flush every 1 s, so at the crash (30 ms) the victim's
    // reads are unlogged; the token it forwarded carries a stamp derived from one. Its
    // recovery reads other values, so the rank holding that token is an orphan.
    it.each([1, 2, 3, 4, 5, 6, 7, 8])("constructed orphan of a lost read (seed %i)", async (seed) => {
      const orphanFactory = composeFromIR(loadSpec("fig3a-damani-garg.egida", { flushIntervalMs: 1000 }));
      const ref = await runJob({ factory: orphanFactory, app: stampApp({ tokens: 1, hops: 60, writeEvery: 40, origins: [0], env: counterEnv() }), size: 4, seed, crashes: 0 });
      const e = countingEnv();
      const run = await runJob({ factory: orphanFactory, app: stampApp({ tokens: 1, hops: 60, writeEvery: 40, origins: [0], env: e.env }), size: 4, seed, crashes: 1, crashWindow: [30, 30], maxConcurrent: 1 });
      expect(run.crashedRanks.length).toBe(1);
      const victim = run.crashedRanks[0]!;
      // The victim produced reads its surviving history does not hold (onStart + one per delivery): lost ones.
      expect(e.calls[victim]!).toBeGreaterThan(1 + run.states[victim]!.count);
      expect(run.trace.some((x) => x.type === "rollback" && x.rank !== victim)).toBe(true);
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
      expectConsistent(run);
    });

    // The same for onStart's read: the origin (rank 0) reads, then sends the token with a stamp
    // derived from the value; it crashes at 30 ms, before anything is flushed (1 s, first write at
    // hop 40). Nothing it did survives, not even that read (a clock that counted only deliveries
    // would stamp the token with ts 0 = the end of the lost incarnation, and no one would roll
    // back): the token's whole trail is orphaned and must roll back to before it.
    it.each([1, 2, 3, 4, 5, 6])("constructed orphan of a lost onStart read (seed %i)", async (seed) => {
      const orphanFactory = composeFromIR(loadSpec("fig3a-damani-garg.egida", { flushIntervalMs: 1000 }));
      const ref = await runJob({ factory: orphanFactory, app: stampApp({ tokens: 1, hops: 60, writeEvery: 40, origins: [0], env: counterEnv() }), size: 4, seed, crashes: 0 });
      const e = countingEnv();
      const run = await runJob({ factory: orphanFactory, app: stampApp({ tokens: 1, hops: 60, writeEvery: 40, origins: [0], env: e.env }), size: 4, seed, crashes: 0, schedule: [{ at: 30, rank: 0 }] });
      expect(run.crashedRanks).toEqual([0]);
      expect(e.calls[0]!).toBeGreaterThan(1 + run.states[0]!.count);
      expect(run.trace.some((x) => x.type === "rollback" && x.rank !== 0)).toBe(true);
      expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
      expectConsistent(run);
    });

    it("stress that reads: 10 seeds × 8 crashes, up to 3 concurrent", async () => {
      let rolled = 0;
      for (let seed = 200; seed < 210; seed++) {
        const mk = () => stampApp({ tokens: 3, hops: 30, writeEvery: 4, env: counterEnv() });
        const ref = await runJob({ factory, app: mk(), size: 5, seed, crashes: 0 });
        const run = await runJob({ factory, app: mk(), size: 5, seed, crashes: 8, crashWindow: [1, 200], maxConcurrent: 3, restartDelay: 3 + (seed % 20) });
        expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
        expectConsistent(run);
        rolled += rollbacks(run);
      }
      expect(rolled).toBeGreaterThan(0);
    });
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

  describe("with checkpoints (specs/optimistic-checkpointed.egida: committed checkpoints, optimistic/checkpoint)", () => {
    const ckFactory = (opts: { flush: number; ckpt: number }) => composeFromIR(loadSpec("optimistic-checkpointed.egida", { flushIntervalMs: opts.flush, checkpointIntervalMs: opts.ckpt }));
    const fromCheckpoint = (run: JobResult<StampState>): number => run.trace.filter((e) => e.type === "rollback" && /from the checkpoint at delivery [1-9]/.test(e.reason)).length;
    const checkpoints = (run: JobResult<StampState>): number => run.trace.filter((e) => e.type === "checkpoint").length;

    it("selection: independent checkpoints on a disk; co-ordinated ones or volatile memory of self refused, not weakened", () => {
      const blocks = selectForIR(loadSpec("optimistic-checkpointed.egida"));
      expect(blocks.map((b) => b.file)).toContain("optimistic/checkpoint.ts");
      expect(blocks.map((b) => b.file)).not.toContain("checkpoint/store.ts");
      const text = (ck: string): ProtocolIR => {
        const p = parse(`receive: determinant : {source, sesn, dest, desn}
Log determinant, data asynchronously on NFS disk
Co-ordinated output commit on write
send: Piggyback vector clock
${ck}
Protocol to detect orphans : broadcast logical clock
`, "inline.egida");
        if (p.ast === null) throw new Error(p.diagnostics.map((d) => d.message).join("; "));
        const { ir } = lower(p.ast, "inline.egida", builtinRegistry());
        if (ir === null) throw new Error("lower failed");
        return ir;
      };
      expect(() => selectForIR(text("Co-ordinated checkpoint asynchronously on NFS disk\nImplementation : full"))).toThrow(/coordinated checkpointing with optimistic logging/);
      // Diskless (replicated) checkpoints are accepted (docs/protocols.md "Diskless checkpoints"); a checkpoint
      // that dies with its process is not: optimistic recovery and rollback restore from it.
      const diskless = selectForIR(text("Independent checkpoint asynchronously on volatile memory of processes\nImplementation : full"));
      expect(diskless.map((b) => b.file)).toContain("optimistic/checkpoint.ts");
      expect(diskless.find((b) => b.file === "checkpoint/restore.ts")?.params["ckpt.medium"]).toBe("volatile-memory-of-processes");
      expect(() => selectForIR(text("Independent checkpoint asynchronously on volatile memory of self\nImplementation : full"))).toThrow(/optimistic checkpoints on volatile-memory-of-self/);
    });

    // Crashes land around checkpoint rounds and writes (every 8 ms; flush 100 ms, so most
    // deliveries are unlogged at a crash unless a checkpoint round synced them).
    const CK_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
    for (const [appName, mk] of Object.entries(apps)) {
      it(`${appName}: 8 seeds × 3 crashes match the failure-free run; rollbacks restore checkpoints`, async () => {
        const f = ckFactory({ flush: 100, ckpt: 8 });
        let ck = 0;
        let fromCk = 0;
        for (const seed of CK_SEEDS) {
          const ref = await runJob({ factory: f, app: mk(), size: 4, seed, crashes: 0 });
          const run = await runJob({ factory: f, app: mk(), size: 4, seed, crashes: 3, crashWindow: [2, 150], maxConcurrent: 1 });
          expect(run.crashedRanks.length).toBeGreaterThan(0);
          expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
          expectConsistent(run);
          ck += checkpoints(run);
          fromCk += fromCheckpoint(run);
        }
        expect(ck).toBeGreaterThan(20);
        // Some rollback went back to a checkpoint, not to the initial state.
        expect(fromCk).toBeGreaterThan(0);
      });
    }

    // The constructed orphan of Fig 3a's test with checkpoints every 6 ms: the victim's states
    // since its last checkpoint round (which synced its log) are lost at 30 ms; the rank holding
    // the token it forwarded since is an orphan and rolls back to its own latest checkpoint.
    it("constructed orphans roll back to their latest checkpoint, not to the initial state", async () => {
      const f = ckFactory({ flush: 1000, ckpt: 6 });
      let orphanFromCk = 0;
      for (let seed = 1; seed <= 8; seed++) {
        const mk = () => stampApp({ tokens: 1, hops: 60, writeEvery: 40, origins: [0] });
        const ref = await runJob({ factory: f, app: mk(), size: 4, seed, crashes: 0 });
        const run = await runJob({ factory: f, app: mk(), size: 4, seed, crashes: 1, crashWindow: [30, 30], maxConcurrent: 1 });
        expect(run.crashedRanks.length).toBe(1);
        const victim = run.crashedRanks[0]!;
        expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
        expectConsistent(run);
        orphanFromCk += run.trace.filter((e) => e.type === "rollback" && e.rank !== victim && /from the checkpoint at delivery [1-9]/.test(e.reason)).length;
      }
      expect(orphanFromCk).toBeGreaterThan(0);
    });

    it("stress: 10 seeds × 8 crashes, up to 3 concurrent, with reads", async () => {
      const f = ckFactory({ flush: 20, ckpt: 7 });
      let rolled = 0;
      for (let seed = 300; seed < 310; seed++) {
        const mk = () => stampApp({ tokens: 3, hops: 30, writeEvery: 4, env: counterEnv() });
        const ref = await runJob({ factory: f, app: mk(), size: 5, seed, crashes: 0 });
        const run = await runJob({ factory: f, app: mk(), size: 5, seed, crashes: 8, crashWindow: [1, 200], maxConcurrent: 3, restartDelay: 3 + (seed % 20) });
        expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
        expectConsistent(run);
        rolled += rollbacks(run);
      }
      expect(rolled).toBeGreaterThan(0);
    });

    // `synchronously`: the pump waits for the round and the write (a rollback wanted meanwhile
    // releases the round, so the pump is never stuck behind an orphan's checkpoint).
    it("synchronous, full checkpoints on local disk: mesh × 6 seeds × 3 crashes match the failure-free run", async () => {
      const text = readFileSync(join(import.meta.dirname, "../../specs/optimistic-checkpointed.egida"), "utf8")
        .replace("Independent checkpoint asynchronously on NFS disk", "Independent checkpoint synchronously on local disk")
        .replace("Implementation : incremental", "Implementation : full");
      const p = parse(text, "sync.egida");
      if (p.ast === null) throw new Error(p.diagnostics.map((d) => d.message).join("; "));
      const { ir } = lower(p.ast, "sync.egida", builtinRegistry());
      if (ir === null) throw new Error("lower failed");
      const sel = selectForIR(ir).find((b) => b.file === "optimistic/checkpoint.ts");
      expect(sel?.params).toEqual({ "ckpt.sync": true, "ckpt.incremental": false });
      const f = composeFromIR({ ...ir, options: { ...ir.options, flushIntervalMs: 100, checkpointIntervalMs: 8 } });
      let ck = 0;
      for (let seed = 1; seed <= 6; seed++) {
        const ref = await runJob({ factory: f, app: apps.mesh(), size: 4, seed, crashes: 0 });
        const run = await runJob({ factory: f, app: apps.mesh(), size: 4, seed, crashes: 3, crashWindow: [2, 150], maxConcurrent: 1 });
        expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
        expectConsistent(run);
        ck += checkpoints(run);
      }
      expect(ck).toBeGreaterThan(20);
    });

    // Storage stays bounded: a long ring (1,600 hops, every rank delivers 200-600 times) with a crash.
    // Without checkpoints (Fig 3a) every rank keeps its whole history in memory and in its log;
    // with them, only what came after the latest committed checkpoint.
    it("a long run keeps the history and the log bounded (Fig 3a keeps everything)", async () => {
      const mk = () => stampApp({ tokens: 1, hops: 1600, writeEvery: 50, origins: [0] });
      const runs = {
        fig3a: await runJob({ factory: composeFromIR(loadSpec("fig3a-damani-garg.egida", { flushIntervalMs: 5 })), app: mk(), size: 4, seed: 5, crashes: 0, schedule: [{ at: 400, rank: 2 }] }),
        ckpt: await runJob({ factory: ckFactory({ flush: 5, ckpt: 10 }), app: mk(), size: 4, seed: 5, crashes: 0, schedule: [{ at: 400, rank: 2 }] }),
      };
      const sizes: Record<string, { hist: number; records: number; count: number }[]> = {};
      for (const [name, run] of Object.entries(runs)) {
        expect(run.errors).toEqual([]);
        expect(run.done.every((d) => d)).toBe(true);
        expect(run.retractions).toEqual([]);
        expectConsistent(run);
        sizes[name] = [];
        for (let r = 0; r < 4; r++) {
          const k = kernelOf(run.protocols[r]!);
          sizes[name]!.push({ hist: k.optHist.length, records: (await k.optLog!.readAll()).length, count: run.states[r]!.count });
        }
      }
      console.log(`optimistic bounded: ${JSON.stringify(sizes)}`);
      for (let r = 0; r < 4; r++) {
        const a = sizes.fig3a![r]!;
        const b = sizes.ckpt![r]!;
        expect(a.count).toBeGreaterThan(200);
        expect(a.hist).toBe(a.count); // the whole history (the crashed rank's replayed part included)
        expect(a.records).toBeGreaterThanOrEqual(a.count);
        expect(b.hist).toBeLessThan(40);
        expect(b.records).toBeLessThan(60);
      }
      expect(checkpoints(runs.ckpt)).toBeGreaterThan(100);
    });
  });

  // `On rollback: Take independent checkpoint on NFS disk` (optimistic/on-rollback-ckpt): no
  // checkpoint timer; every orphan checkpoints right after its rollback's replay (committed like
  // every optimistic checkpoint), so its next rollback or crash restarts from there.
  describe("On rollback: Take independent checkpoint (specs/optimistic-rollback-checkpoint.egida)", () => {
    it("constructed orphans checkpoint after rolling back; Fig 3a (On rollback: Log) never checkpoints", async () => {
      const withCk = composeFromIR(loadSpec("optimistic-rollback-checkpoint.egida", { flushIntervalMs: 1000 }));
      const fig3a = composeFromIR(loadSpec("fig3a-damani-garg.egida", { flushIntervalMs: 1000 }));
      let after = 0;
      let rolled = 0;
      for (let seed = 1; seed <= 6; seed++) {
        const mk = () => stampApp({ tokens: 1, hops: 60, writeEvery: 40, origins: [0] });
        const ref = await runJob({ factory: withCk, app: mk(), size: 4, seed, crashes: 0 });
        expect(ref.trace.some((e) => e.type === "checkpoint")).toBe(false); // nothing but rollbacks asks for one
        const run = await runJob({ factory: withCk, app: mk(), size: 4, seed, crashes: 1, crashWindow: [30, 30], maxConcurrent: 1 });
        expectSameAsFailureFree(ref, run, { noSurvivorRollback: false });
        expectConsistent(run);
        const tr = run.trace;
        tr.forEach((e, i) => {
          if (e.type !== "rollback") return;
          rolled++;
          if (tr.slice(i + 1).some((x) => x.type === "checkpoint" && x.rank === e.rank)) after++;
        });
        const plain = await runJob({ factory: fig3a, app: mk(), size: 4, seed, crashes: 1, crashWindow: [30, 30], maxConcurrent: 1 });
        expect(plain.trace.some((e) => e.type === "rollback")).toBe(run.trace.some((e) => e.type === "rollback"));
        expect(plain.trace.some((e) => e.type === "checkpoint")).toBe(false);
      }
      console.log(`rollback checkpoints: ${after} of ${rolled} rollbacks followed by a checkpoint of the same rank`);
      expect(rolled).toBeGreaterThan(0);
      // Every rollback is followed by a checkpoint of the same rank (unless a later rollback abandoned it).
      expect(after).toBeGreaterThanOrEqual(Math.ceil(rolled / 2));
    });

    it("selection: the rollback checkpoint goes to the checkpoint statement's store, one that survives the process", () => {
      const text = (extra: string): ProtocolIR => {
        const p = parse(`receive: determinant : {source, sesn, dest, desn}
Log determinant, data asynchronously on NFS disk
Co-ordinated output commit on write
send: Piggyback vector clock
${extra}
`, "inline.egida");
        if (p.ast === null) throw new Error(p.diagnostics.map((d) => d.message).join("; "));
        const { ir } = lower(p.ast, "inline.egida", builtinRegistry());
        if (ir === null) throw new Error("lower failed");
        return ir;
      };
      const files = selectForIR(loadSpec("optimistic-rollback-checkpoint.egida")).map((b) => b.file);
      expect(files).toContain("optimistic/on-rollback-ckpt.ts");
      expect(files).toContain("optimistic/checkpoint.ts");
      expect(files).not.toContain("checkpoint/independent.ts");
      expect(files).not.toContain("optimistic/on-rollback-log.ts");
      expect(() =>
        selectForIR(text("Independent checkpoint asynchronously on NFS disk\nImplementation : full\nProtocol to detect orphans : broadcast logical clock\nOn rollback: Take independent checkpoint on local disk")),
      ).toThrow(/the checkpoints are on nfs-disk/);
      expect(() => selectForIR(text("Protocol to detect orphans : broadcast logical clock\nOn rollback: Take independent checkpoint on volatile memory of self"))).toThrow(/optimistic checkpoints on volatile-memory-of-self/);
    });
  });
});
