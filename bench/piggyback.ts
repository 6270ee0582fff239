/**
 * Causal piggyback size and send cost (not a test): what family-based causal
 * logging puts on each message, next to what its destination did not already
 * know, and whether a send costs more the longer a run goes.
 *
 *   npx tsx bench/piggyback.ts [--spec family-based-causal.egida] [--ranks 4,8,16] [--iters 100]
 *                              [--grid 64] [--scale 4] [--cost-ranks 4]
 *
 * Runs examples/apps/jacobi.mjs (halo exchange in a chain of ranks) in the
 * simulator (test/protocols/harness.ts) under the spec composed by the dev
 * composer, with checkpoints and flushes frozen: every message of the run is
 * "since the last checkpoint".
 *
 * Size, at each rank count: the piggyback bytes per message (the protocol's
 * own count, ssn word included) and the bytes the destination did not know.
 * The latter is measured at each delivery by diffing the receiver's state
 * around its onDeliver chain: 16 bytes per determinant it did not hold (a
 * determinant is 4 words on the wire) and 4 bytes (one word) per
 * dependency-matrix entry of another process's row it learnt; its own row is
 * derived, not learnt.
 *
 * Cost: the same job at `iters` and at `scale` × `iters` iterations, timing
 * every onSend chain (performance.now() around it, no diffing): mean µs per
 * send and CPU per message of the whole simulated job. Flat per-send cost
 * means a send does not grow with the messages since the checkpoint.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { benchArgs } from "./args.js";
import { kernelOf } from "../compiler/src/blocks/compose.js";
import { composeFromIR } from "../compiler/src/dev/select-ir.js";
import type { ComposedState } from "../compiler/src/blocks/index.js";
import type { DeliverEv, SendEv } from "../compiler/src/blocks/hooks.js";
import type { App, Protocol, ProtocolFactory, ProtocolHost } from "@egida/runtime-core/spi";
import { checkApp } from "../runtime-core/src/host/load-app.js";
import { runJob } from "../test/protocols/harness.js";
import { loadSpec } from "../test/protocols/spec.js";

const ROOT = join(import.meta.dirname, "..");

interface Tally {
  sends: number;
  sendMs: number;
  /** Every send's time (ms): the median is what a send costs, the mean also pays GC pauses. */
  sendTimes: number[];
  deliveries: number;
  novelBytes: number;
}

function usage(msg: string): never {
  process.stderr.write(`bench/piggyback.ts: ${msg}\nUsage: npx tsx bench/piggyback.ts [--spec FILE] [--ranks 4,8,16] [--iters N] [--grid N] [--scale K] [--cost-ranks N]\n`);
  process.exit(2);
}

/** Determinants the receiver holds, and its dependency matrix, as of now. */
function knowledge(s: ComposedState): { dets: number; dm: Uint32Array } {
  let dets = 0;
  for (const m of s.cdDets) dets += m.size;
  return { dets, dm: s.cdDm.slice() };
}

/** Wraps each created protocol's onSend (timed) and, with `novel`, onDeliver (diffed). */
function instrumented(factory: ProtocolFactory, t: Tally, novel: boolean): ProtocolFactory {
  return {
    protocolName: factory.protocolName,
    defaultF: factory.defaultF,
    create(host: ProtocolHost): Protocol {
      const p = factory.create(host);
      const s = kernelOf(p);
      const send = s.onSend.bind(s);
      s.onSend = (ev: SendEv): void => {
        const t0 = performance.now();
        send(ev);
        const dt = performance.now() - t0;
        t.sendMs += dt;
        t.sendTimes.push(dt);
        t.sends++;
      };
      if (novel) {
        const deliver = s.onDeliver.bind(s);
        s.onDeliver = async (ev: DeliverEv): Promise<void> => {
          const before = knowledge(s);
          await deliver(ev);
          const after = knowledge(s);
          t.deliveries++;
          // Less its own new determinant (created, not learnt).
          t.novelBytes += 16 * Math.max(0, after.dets - before.dets - 1);
          const n = s.host.size;
          for (let i = 0; i < n * n; i++) if (((i / n) | 0) !== s.host.rank && after.dm[i]! > before.dm[i]!) t.novelBytes += 4;
        };
      }
      return p;
    },
  };
}

async function jacobi(grid: number, iters: number): Promise<App<unknown>> {
  const mod = (await import(pathToFileURL(join(ROOT, "examples/apps/jacobi.mjs")).href)) as { default?: unknown };
  const app = checkApp(mod.default, "jacobi.mjs") as unknown as App<unknown>;
  return { ...app, init: (o) => app.init({ ...o, args: [String(grid), String(iters)] }) };
}

async function run(factory: ProtocolFactory, ranks: number, grid: number, iters: number, novel: boolean) {
  const t: Tally = { sends: 0, sendMs: 0, sendTimes: [], deliveries: 0, novelBytes: 0 };
  const app = await jacobi(grid, iters);
  const cpu0 = process.cpuUsage();
  const r = await runJob({ factory: instrumented(factory, t, novel), app, size: ranks, seed: 1, crashes: 0, maxTime: 1e9 });
  const cpu = process.cpuUsage(cpu0);
  if (r.errors.length > 0 || !r.done.every(Boolean)) throw new Error(`jacobi on ${ranks} ranks did not finish: ${r.errors.join("; ")}`);
  let messages = 0;
  let pbBytes = 0;
  for (const p of r.protocols) {
    messages += p.stats().messages;
    pbBytes += p.stats().piggybackBytes;
  }
  return { messages, pbBytes, t, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function main(): Promise<void> {
  const values = benchArgs("piggyback", "Usage: npx tsx bench/piggyback.ts [--spec family-based-causal.egida] [--ranks 4,8,16] [--iters 100] [--grid 64] [--scale 4] [--cost-ranks 4]", {
      spec: { type: "string", default: "family-based-causal.egida" },
      ranks: { type: "string", default: "4,8,16" },
      iters: { type: "string", default: "100" },
      grid: { type: "string", default: "64" },
      scale: { type: "string", default: "4" },
      "cost-ranks": { type: "string", default: "4" },
  });
  const ranks = values.ranks.split(",").map(Number);
  const iters = Number(values.iters);
  const grid = Number(values.grid);
  const scale = Number(values.scale);
  const costRanks = Number(values["cost-ranks"]);
  if (ranks.some((n) => !Number.isInteger(n) || n < 3 || n > 31)) usage("--ranks must be integers in 3..31");
  for (const [k, v] of [["iters", iters], ["grid", grid], ["scale", scale], ["cost-ranks", costRanks]] as const) {
    if (!Number.isInteger(v) || v < 1) usage(`--${k} must be an integer >= 1`);
  }
  try {
    readFileSync(join(ROOT, "specs", values.spec));
  } catch {
    usage(`no spec ${values.spec} in specs/`);
  }
  // Frozen checkpoints and flushes: the whole run is one checkpoint interval.
  const factory = composeFromIR(loadSpec(values.spec, { checkpointIntervalMs: 1e12, flushIntervalMs: 1e12 }));

  console.log(`${values.spec}, jacobi ${grid}x${grid}, ${iters} iterations, simulator, no checkpoint during the run`);
  console.log("| ranks | messages | piggyback B/msg | destination did not know B/msg | ratio |");
  console.log("|---|---|---|---|---|");
  for (const n of ranks) {
    const r = await run(factory, n, grid, iters, true);
    const pb = r.pbBytes / r.messages;
    const nv = r.t.novelBytes / r.t.deliveries;
    console.log(`| ${n} | ${r.messages} | ${pb.toFixed(1)} | ${nv.toFixed(1)} | ${(pb / nv).toFixed(2)}x |`);
  }

  console.log(`\nsend cost, ${costRanks} ranks: ${iters} vs ${scale * iters} iterations`);
  console.log("| iterations | messages | µs per send, median (onSend chain) | mean | CPU µs per message (whole simulated job) |");
  console.log("|---|---|---|---|---|");
  // Warm-up (JIT), not reported.
  await run(factory, costRanks, grid, iters, false);
  for (const it of [iters, scale * iters]) {
    const r = await run(factory, costRanks, grid, it, false);
    const sorted = r.t.sendTimes.sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1]!;
    console.log(`| ${it} | ${r.messages} | ${(1000 * median).toFixed(2)} | ${((1000 * r.t.sendMs) / r.t.sends).toFixed(2)} | ${((1000 * r.cpuMs) / r.messages).toFixed(1)} |`);
  }
}

await main();
