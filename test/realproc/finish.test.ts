/**
 * Job completion (Protocol.finish): the checkpoint-only protocols hold every
 * output until a committed recovery line covers it, and with the spec's 2 s
 * checkpoint interval a short job is over before the first commit. Before
 * the finish phase, `egida-run --protocol generated/coordinated-checkpointing
 * examples/apps/jacobi.mjs` released no output at all. The launchers now call
 * finish on every rank once every rank is done and stop the ranks only when
 * all resolved; the blocks commit until a final line (ckpt-only/rounds.ts).
 *
 * - real launcher (TCP), the generated packages as checked in (2 s
 *   interval): every output of the failure-free `none` run, with and without
 *   a kill;
 * - simulation with the same packages (the spec's interval, not a test's
 *   short one), with and without a kill;
 * - a kill *during* the finish phase (of a participant, and of rank 0, the
 *   coordinator): the rank restarts, the job recovers and finishes again,
 *   and every output is released exactly once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { App, ProtocolFactory } from "@egida/runtime-core/spi";
import { loadApp } from "../../runtime-core/src/host/load-app.js";
import { decodeOutput } from "../../runtime-core/src/launcher/report.js";
import { runSimJob } from "../../runtime-core/src/launcher/sim-job.js";
import { readTrace } from "../../runtime-core/src/trace/read.js";
import { noneProtocol } from "../../runtime-core/src/protocols/none.js";
import { appCase, judge } from "./lib/apps.js";
import { builtProtocol } from "./lib/protocols.js";
import { referenceRun, runEgida } from "./lib/run.js";

const CKPT_ONLY = ["coordinated-checkpointing", "communication-induced-checkpointing", "independent-checkpointing"];
const APPS = ["token-ring", "jacobi", "writer"].map(appCase);
/** A count kill in the middle of each app's run (its deliveries per rank are in the hundreds). */
const KILL: Readonly<Record<string, string>> = { "token-ring": "1@20msgs", jacobi: "2@40msgs", writer: "3@60msgs" };

type SimFactory = Parameters<typeof runSimJob>[0]["protocol"];

async function factoryOf(name: string): Promise<SimFactory> {
  const mod = (await import(`${builtProtocol(name)}/dist/index.js`)) as { default?: ProtocolFactory; protocol?: ProtocolFactory };
  const f = mod.default ?? mod.protocol;
  if (f === undefined) throw new Error(`${name}: no factory export`);
  return f as unknown as SimFactory;
}

/** Per rank, in release order, the outputs' values; and whether each rank's seqs are exactly 1..n once. */
function byRank(size: number, outs: readonly { rank: number; seq: number; payload: Uint8Array }[]): { values: unknown[][]; dense: boolean } {
  const values: unknown[][] = Array.from({ length: size }, () => []);
  const seqs: number[][] = Array.from({ length: size }, () => []);
  for (const o of outs) {
    values[o.rank]!.push(decodeOutput(o.payload));
    seqs[o.rank]!.push(o.seq);
  }
  const dense = seqs.every((l) => [...l].sort((a, b) => a - b).every((s, i) => s === i + 1));
  return { values, dense };
}

/**
 * The (protocol, app) pairs run once each, with or without a kill in turn, so
 * every protocol and every app runs both ways; the simulation below runs the
 * full matrix. EGIDA_REALPROC_FULL=1 runs both ways for every pair here too.
 */
const TCP_FULL = process.env["EGIDA_REALPROC_FULL"] === "1";

describe("finish over TCP: checkpoint-only packages release every output (spec's 2 s interval)", () => {
  for (const [i, name] of CKPT_ONLY.entries()) {
    for (const [j, a] of APPS.entries()) {
      const kills = TCP_FULL ? [null, KILL[a.name]!] : [(i + j) % 2 === 0 ? KILL[a.name]! : null];
      for (const kill of kills) {
        it(`${name} / ${a.name}${kill ? ` --kill ${kill}` : ""}`, async () => {
          const ref = await referenceRun(a.path, a.args, 4);
          const res = await runEgida({ size: 4, protocol: builtProtocol(name), app: a.path, args: a.args, kills: kill ? [kill] : [], timeoutMs: 60_000 });
          expect(res.code, `${res.command}\n${res.stderr}`).toBe(0);
          if (kill) expect(res.kills.length, res.stderr).toBe(1);
          expect(judge(a, res.outputs, ref.outputs), res.command).toBeNull();
        }, 90_000);
      }
    }
  }
});

describe("finish over TCP: no checkpoint after the final commit", () => {
  // Rank 0 applies its own final COMMIT after the garbage collection that precedes it (disk I/O), and
  // its 10 ms FIN timer used to poll again in between: every rank began one more checkpoint as the job
  // ended, which the job stopped half-written (3 per rank instead of 2 on a one-iteration jacobi).
  // Coordinated checkpointing checkpoints only on polls (and index piggybacks), so here every
  // checkpoint a rank begins must be durable by the end.
  it("coordinated-checkpointing / jacobi: every checkpoint begun is durable", async () => {
    const a = appCase("jacobi");
    const dir = mkdtempSync(join(tmpdir(), "egida-fin-trace-"));
    try {
      const trace = join(dir, "trace.jsonl");
      const res = await runEgida({ size: 4, protocol: builtProtocol("coordinated-checkpointing"), app: a.path, args: a.args, trace, timeoutMs: 60_000 });
      expect(res.code, `${res.command}\n${res.stderr}`).toBe(0);
      const { records } = readTrace(trace);
      const begun: string[] = [];
      const durable = new Set<string>();
      for (const e of records) {
        if (e.ev === "checkpoint-begin") begun.push(`rank ${e.rank} checkpoint ${e.index}`);
        else if (e.ev === "checkpoint-commit") durable.add(`rank ${e.rank} checkpoint ${e.index}`);
      }
      expect(begun.length).toBeGreaterThanOrEqual(8);
      expect(begun.filter((k) => !durable.has(k))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe("finish in the simulation with the spec's checkpoint interval", () => {
  for (const name of CKPT_ONLY) {
    it(`${name}: token-ring, jacobi, writer, with and without a kill`, async () => {
      const factory = await factoryOf(name);
      for (const a of APPS) {
        const app = (await loadApp(a.path)) as App<unknown>;
        const ref = await runSimJob({ size: 4, app, args: a.args, protocol: noneProtocol as unknown as SimFactory, seed: 3 });
        expect(ref.failure).toBeNull();
        const want = byRank(4, ref.outputs).values;
        for (const kill of [null, KILL[a.name]!]) {
          const [rank, n] = (kill ?? "0@0").split("@").map((x) => parseInt(x, 10)) as [number, number];
          const res = await runSimJob({ size: 4, app, args: a.args, protocol: factory, seed: 3, kills: kill ? [{ rank, atDeliveries: n, text: kill }] : [], timeoutMs: 60_000 });
          expect(res.failure, `${a.name} ${kill ?? ""}`).toBeNull();
          // The job ran well short of one 2 s interval: only the finish phase can have released the outputs.
          expect(res.finishStartMs!).toBeLessThan(2000);
          const got = byRank(4, res.outputs);
          expect(got.dense).toBe(true);
          expect(got.values, `${a.name} ${kill ?? ""}`).toEqual(want);
        }
      }
    }, 120_000);
  }
});

describe("a kill during the finish phase still releases every output exactly once (sim)", () => {
  for (const name of CKPT_ONLY) {
    it(`${name}: jacobi and writer, a participant or the coordinator killed just after every rank is done`, async () => {
      const factory = await factoryOf(name);
      for (const a of [appCase("jacobi"), appCase("writer")]) {
        const app = (await loadApp(a.path)) as App<unknown>;
        const ref = await runSimJob({ size: 4, app, args: a.args, protocol: noneProtocol as unknown as SimFactory, seed: 5 });
        const want = byRank(4, ref.outputs).values;
        // Same seed, no kill: the finish phase starts at a reproducible virtual time.
        const free = await runSimJob({ size: 4, app, args: a.args, protocol: factory, seed: 5 });
        expect(free.failure).toBeNull();
        const t0 = free.finishStartMs!;
        const t1 = free.virtualMs;
        expect(t1).toBeGreaterThan(t0);
        // Early, middle and late in the finish phase (a few virtual ms with memory storage), rank 0 in the middle.
        for (const [rank, frac] of [[2, 0.1], [0, 0.5], [1, 0.9]] as const) {
          const at = t0 + frac * (t1 - t0);
          const events: string[] = [];
          const res = await runSimJob({
            size: 4,
            app,
            args: a.args,
            protocol: factory,
            seed: 5,
            kills: [{ rank, atMs: at, text: `${rank}@${at}ms` }],
            timeoutMs: 60_000,
            onEvent: (m) => events.push(m),
          });
          const what = `${a.name} kill ${rank}@${at}ms (finish began at ${t0}):\n${events.join("\n")}`;
          expect(res.failure, what).toBeNull();
          // The kill landed in the finish phase (same schedule as the kill-free run up to it).
          expect(res.finishStartMs, what).toBe(t0);
          expect(res.ranks[rank]!.restarts, what).toBe(1);
          const got = byRank(4, res.outputs);
          expect(got.dense, what).toBe(true);
          expect(got.values, what).toEqual(want);
        }
      }
    }, 120_000);
  }
});
