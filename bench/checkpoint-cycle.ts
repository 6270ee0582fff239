/**
 * A checkpoint as the checkpoint-only store block takes one (not a test):
 * capture the application state, pack the retransmission buffer, encode the
 * protocol state, write it to a disk checkpoint store, drop the older one.
 * CPU per checkpoint in steady state (the first two of each process left
 * out), with the warm buffers given back after each write as the store blocks
 * do, against the same cycle on fresh memory every time (nothing given back).
 *
 *   npx tsx bench/checkpoint-cycle.ts [--app-bytes 3200000] [--messages 2000] [--checkpoints 12] [--reps 3] [--dir PATH]
 *
 * Each repetition runs both variants, each in a process of its own (the pool
 * is per process), one after the other.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchArgs } from "./args.js";
import { openCheckpointStore } from "../runtime-core/src/storage/index.js";
import { encodeState, newOutLog, outPack, outPush, releaseWarm, takeWarm } from "../runtime-core/src/protocol-lib/index.js";
import { encodeAppState } from "../runtime-core/src/host/value-codec.js";

const USAGE = "Usage: npx tsx bench/checkpoint-cycle.ts [--app-bytes 3200000] [--messages 2000] [--checkpoints 12] [--reps 3] [--dir PATH]";
const values = benchArgs("checkpoint-cycle", USAGE, {
  "app-bytes": { type: "string", default: "3200000" },
  messages: { type: "string", default: "2000" },
  checkpoints: { type: "string", default: "12" },
  reps: { type: "string", default: "3" },
  dir: { type: "string" },
  // internal: run one variant in this process and print its CPU per checkpoint (µs)
  variant: { type: "string" },
});
const APP_BYTES = Number(values["app-bytes"]);
const MESSAGES = Number(values.messages);
const CHECKPOINTS = Number(values.checkpoints);
const REPS = Number(values.reps);
for (const [flag, v, min] of [["--app-bytes", APP_BYTES, 8], ["--messages", MESSAGES, 0], ["--checkpoints", CHECKPOINTS, 3], ["--reps", REPS, 1]] as const) {
  if (!Number.isInteger(v) || v < min) {
    process.stderr.write(`bench/checkpoint-cycle.ts: ${flag} must be an integer >= ${min}\n${USAGE}\n`);
    process.exit(2);
  }
}

async function runVariant(warm: boolean): Promise<number> {
  const dir = await mkdtemp(join(values.dir ?? tmpdir(), "egida-ckcycle-"));
  try {
    const store = await openCheckpointStore(dir);
    const app = { grid: new Float64Array(Math.floor(APP_BYTES / 8)).fill(1.5), step: 0 };
    // Two destinations, each with MESSAGES jacobi-sized messages (520 B payload, 3 piggyback words).
    const qs = [newOutLog(0), newOutLog(1)];
    const pb = new Uint32Array([1, 2, 3]);
    const payload = new Uint8Array(520).fill(3);
    for (let i = 1; i <= MESSAGES; i++) for (const q of qs) outPush(q, i, pb, 3, payload);
    let cpu = 0;
    for (let k = 1; k <= CHECKPOINTS; k++) {
      const c0 = process.cpuUsage();
      app.step = k;
      const ckpt = { index: k, app: encodeAppState(app, takeWarm), protocol: encodeState({ "cp.outq": outPack(qs), k }, { consume: warm }) };
      await store.write(ckpt, { incremental: false });
      if (warm) {
        releaseWarm(ckpt.protocol);
        releaseWarm(ckpt.app);
      }
      await store.gc(k);
      const c = process.cpuUsage(c0);
      if (k > 2) cpu += c.user + c.system;
    }
    return cpu / (CHECKPOINTS - 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (values.variant !== undefined) {
  process.stdout.write(`${await runVariant(values.variant === "warm")}\n`);
} else {
  const self = fileURLToPath(import.meta.url);
  const passthrough = ["--app-bytes", String(APP_BYTES), "--messages", String(MESSAGES), "--checkpoints", String(CHECKPOINTS), ...(values.dir ? ["--dir", values.dir] : [])];
  const got: Record<string, number[]> = { fresh: [], warm: [] };
  for (let r = 0; r < REPS; r++) {
    for (const v of r % 2 === 0 ? ["fresh", "warm"] : ["warm", "fresh"]) {
      const p = spawnSync(process.execPath, [...process.execArgv, self, ...passthrough, "--variant", v], { encoding: "utf8" });
      if (p.status !== 0) {
        process.stderr.write(p.stderr);
        process.exit(1);
      }
      got[v]!.push(Number(p.stdout.trim()) / 1000);
    }
  }
  const med = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const range = (a: number[]): string => `${Math.min(...a).toFixed(1)}–${Math.max(...a).toFixed(1)}`;
  const kb = (2 * MESSAGES * 532) / 1024;
  console.log(`checkpoint cycle: app state ${(APP_BYTES / 1e6).toFixed(2)} MB, retransmission buffer ${(kb / 1024).toFixed(2)} MiB (${2 * MESSAGES} messages), ${CHECKPOINTS - 2} steady-state checkpoints × ${REPS} reps`);
  console.log(`| memory | CPU ms per checkpoint, median [min–max] |`);
  console.log(`| --- | --- |`);
  console.log(`| fresh every time | ${med(got["fresh"]!).toFixed(1)} [${range(got["fresh"]!)}] |`);
  console.log(`| warm (given back after each write) | ${med(got["warm"]!).toFixed(1)} [${range(got["warm"]!)}] |`);
  console.log(`warm / fresh: ${(med(got["warm"]!) / med(got["fresh"]!)).toFixed(2)}×`);
}
