/**
 * Storage benchmark (not a test): synchronous log appends against the disk's
 * raw fdatasync rate measured in the same run, and checkpoint write speed.
 *
 *   npx tsx bench/storage.ts [--dir <path on the disk to test>] [--seconds 2] [--record 128]
 *
 * Targets: unbatched sync appends within 20% of the faster raw durable write
 * (write + fdatasync, or a write to an O_DSYNC file); group commit (64
 * writers) at least 50% of raw batched (64 records in one durable write).
 */
import { constants } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { benchArgs } from "./args.js";
import { openCheckpointStore, openDiskLog } from "../runtime-core/src/storage/index.js";
import { encodedSize } from "../runtime-core/src/storage/record-format.js";

const values = benchArgs("storage", "Usage: npx tsx bench/storage.ts [--dir PATH] [--seconds 2] [--record 128] [--writers 64]", {
    dir: { type: "string" },
    seconds: { type: "string", default: "2" },
    record: { type: "string", default: "128" },
    writers: { type: "string", default: "64" },
});
const SECONDS = Number(values.seconds);
const RECORD = Number(values.record);
const WRITERS = Number(values.writers);
const root = await mkdtemp(join(values.dir ?? tmpdir(), "egida-bench-"));
let seq = 0;
const path = (): string => join(root, `f${++seq}`);

/**
 * A measured case: `slice(ms)` runs it for about `ms` and returns the records
 * it made durable. The VM disks this runs on drift by 2-4x within seconds, so
 * cases run interleaved in short slices and are compared on the same time windows.
 */
interface Case {
  readonly name: string;
  slice(ms: number): Promise<number>;
  close(): Promise<void>;
  batching?(): string;
}

/** A case driven by a loop of `step` (which makes `n` records durable per call). */
function loop(name: string, step: () => Promise<number>, close: () => Promise<void>, batching?: () => string): Case {
  return {
    name,
    async slice(ms) {
      let n = 0;
      const end = performance.now() + ms;
      while (performance.now() < end) n += await step();
      return n;
    },
    close,
    batching,
  };
}

/**
 * Raw durable writes of `records` records at a time: write + fdatasync, or (`dsync`) one write to a
 * file opened O_DSYNC, as the disk log's segments are (storage/disk-log.ts).
 */
async function rawCase(records: number, dsync: boolean): Promise<Case> {
  const fh = await open(path(), dsync ? constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DSYNC : "w");
  const buf = Buffer.alloc(encodedSize(RECORD) * records, 1);
  let pos = 0;
  const what = records === 1 ? "1 record" : `${records} records`;
  const name = dsync ? `raw O_DSYNC write (${what})` : `raw write+fdatasync (${what})`;
  return loop(
    name,
    async () => {
      await fh.write(buf, 0, buf.length, pos);
      pos += buf.length;
      if (!dsync) await fh.datasync();
      return records;
    },
    () => fh.close(),
  );
}

async function logCase(writers: number): Promise<Case> {
  const log = await openDiskLog(path());
  const data = Buffer.alloc(RECORD, 2);
  const batching = (): string => `${(log.stats.records / log.stats.syncs).toFixed(1)} rec/sync`;
  if (writers === 1) {
    return loop(
      "log append+sync, 1 writer",
      async () => {
        log.append(data);
        await log.sync();
        return 1;
      },
      () => log.close(),
      batching,
    );
  }
  // Free-running writers, each waiting only for its own record's sync (as concurrent handlers would).
  return {
    name: `log group commit, ${writers} writers`,
    async slice(ms) {
      const end = performance.now() + ms;
      let n = 0;
      await Promise.all(
        Array.from({ length: writers }, async () => {
          while (performance.now() < end) {
            log.append(data);
            await log.sync();
            n++;
          }
        }),
      );
      return n;
    },
    close: () => log.close(),
    batching,
  };
}

/** Runs the cases round-robin in slices for SECONDS each in total; returns records/s per case. */
async function interleaved(cases: Case[]): Promise<number[]> {
  const sliceMs = 250;
  for (const c of cases) await c.slice(50); // warm-up: file creation, first extents
  const totals = cases.map(() => 0);
  const rounds = Math.max(1, Math.round((SECONDS * 1000) / sliceMs));
  const t = cases.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < cases.length; i++) {
      const t0 = performance.now();
      totals[i]! += await cases[i]!.slice(sliceMs);
      t[i]! += performance.now() - t0;
    }
  }
  return totals.map((n, i) => n / (t[i]! / 1000));
}

function random(len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  let x = 0x9e3779b9;
  for (let i = 0; i < len; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeInt32LE(x | 0, i);
  }
  return b;
}

async function checkpoints(): Promise<{ full: number; inc: number; fullBytes: number; incBytes: number; size: number }> {
  const size = 32 * 1024 * 1024;
  const app = random(size);
  const store = await openCheckpointStore(path());
  let index = 0;
  await store.write({ index: index++, app, protocol: new Uint8Array(64) }, { incremental: false });
  const reps = 5;
  let t0 = performance.now();
  let before = store.stats.bytesWritten;
  for (let i = 0; i < reps; i++) await store.write({ index: index++, app, protocol: new Uint8Array(64) }, { incremental: false });
  const full = (reps * size) / 1e6 / ((performance.now() - t0) / 1000);
  const fullBytes = (store.stats.bytesWritten - before) / reps;
  t0 = performance.now();
  before = store.stats.bytesWritten;
  for (let i = 0; i < reps; i++) {
    // About 1% of the state changes between checkpoints: 5 scattered chunks of 512.
    for (let k = 0; k < 5; k++) { const at = ((i * 5 + k) * 7919 * 65536) % size; app[at] = app[at]! ^ 0xff; }
    await store.write({ index: index++, app, protocol: new Uint8Array(64) }, { incremental: true });
  }
  const inc = (reps * size) / 1e6 / ((performance.now() - t0) / 1000);
  const incBytes = (store.stats.bytesWritten - before) / reps;
  await store.gc(index - 1);
  return { full, inc, fullBytes, incBytes, size };
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
const pct = (a: number, b: number): string => `${Math.round((100 * a) / b)}%`;

try {
  const cpu = cpus();
  console.log(`machine: ${cpu[0]?.model ?? "?"}, ${cpu.length} cores, node ${process.version}, ${process.platform}`);
  console.log(`dir: ${root}, record ${RECORD} B (+${encodedSize(0)} B header), ${SECONDS}s per row, interleaved in 250 ms slices, ${WRITERS} writers\n`);
  // The log's baseline is the faster raw way to a durable write on this disk.
  const cases = [await rawCase(1, false), await rawCase(1, true), await logCase(1), await rawCase(WRITERS, false), await rawCase(WRITERS, true), await logCase(WRITERS)];
  const [raw1, dsync1, log1, rawN, dsyncN, logN] = (await interleaved(cases)) as [number, number, number, number, number, number];
  const best1 = Math.max(raw1, dsync1);
  const bestN = Math.max(rawN, dsyncN);
  const rows: [string, string, string, string][] = [
    [cases[0]!.name, fmt(raw1), "", ""],
    [cases[1]!.name, fmt(dsync1), "", ""],
    [cases[2]!.name, fmt(log1), `${pct(log1, best1)} of raw`, cases[2]!.batching?.() ?? ""],
    [cases[3]!.name, fmt(rawN), "", ""],
    [cases[4]!.name, fmt(dsyncN), "", ""],
    [cases[5]!.name, fmt(logN), `${pct(logN, bestN)} of raw batched`, cases[5]!.batching?.() ?? ""],
  ];
  for (const c of cases) await c.close();
  console.log("| case | records/s | vs raw | batching |\n|---|---:|---:|---:|");
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);

  const c = await checkpoints();
  console.log(`\n| checkpoint (${c.size / 1048576} MiB state) | MB/s of state | bytes written per checkpoint |\n|---|---:|---:|`);
  console.log(`| full | ${c.full.toFixed(0)} | ${fmt(c.fullBytes)} |`);
  console.log(`| incremental (5 chunks changed) | ${c.inc.toFixed(0)} | ${fmt(c.incBytes)} |`);
} finally {
  await rm(root, { recursive: true, force: true });
}
