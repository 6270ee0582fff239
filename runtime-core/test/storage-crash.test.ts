/**
 * A synced record survives SIGKILL of the writer: the child acknowledges a
 * record only after `sync()` resolved, the parent kills it mid-stream and
 * checks that every acknowledged record is in the reopened log.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDiskLog } from "../src/storage/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "..");
const child = join(here, "fixtures", "storage-child.mjs");
const tmp = mkdtempSync(join(tmpdir(), "egida-storage-crash-"));

beforeAll(() => {
  // The child runs the built dist; rebuild it if the sources are newer.
  const built = join(pkg, "dist", "storage", "index.js");
  const srcDir = join(pkg, "src", "storage");
  const newest = Math.max(...readdirSync(srcDir).map((n) => statSync(join(srcDir, n)).mtimeMs));
  let stale = true;
  try {
    stale = statSync(built).mtimeMs < newest;
  } catch {
    stale = true;
  }
  if (stale) execFileSync(process.execPath, [join(pkg, "..", "node_modules", "typescript", "bin", "tsc"), "-b", join(pkg, "tsconfig.json")], { stdio: "inherit" });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the child until it acknowledged at least `acks` records, then SIGKILLs it; returns lsn -> payload acknowledged. */
function runAndKill(dir: string, acks: number, self = false): Promise<Map<number, string>> {
  return new Promise((resolve, reject) => {
    const acked = new Map<number, string>();
    const p = spawn(process.execPath, [child, dir, "8", ...(self ? [String(acks)] : [])], { stdio: ["ignore", "pipe", "pipe"] });
    let buf = "";
    let err = "";
    let killed = false;
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^synced (\d+) (.*)$/.exec(line);
        if (m) acked.set(Number(m[1]), m[2]!);
      }
      if (!self && !killed && acked.size >= acks) {
        killed = true;
        p.kill("SIGKILL");
      }
    });
    p.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve(acked);
      else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
}

describe("disk log crash durability", () => {
  it("keeps every acknowledged record across two SIGKILLs", async () => {
    const dir = join(tmp, "log");
    const first = await runAndKill(dir, 300);
    const second = await runAndKill(dir, 300);
    const log = await openDiskLog(dir, { segmentBytes: 64 * 1024 });
    const recs = await log.readAll();
    const byLsn = new Map(recs.map((r) => [r.lsn, Buffer.from(r.data).toString()]));
    // Gap-free from 0: lsn continuity across the crash.
    recs.forEach((r, i) => expect(r.lsn).toBe(i));
    for (const acked of [first, second]) {
      for (const [lsn, payload] of acked) expect(byLsn.get(lsn)).toBe(payload);
    }
    expect(Math.min(...second.keys())).toBeGreaterThanOrEqual(Math.max(...first.keys()) + 1);
    expect(log.stats.segments).toBeGreaterThan(1);
    await log.close();
  });

  it("keeps records acknowledged just before the writer SIGKILLs itself", async () => {
    const dir = join(tmp, "self");
    const all: Map<number, string>[] = [];
    for (let i = 0; i < 3; i++) all.push(await runAndKill(dir, 50 + i * 37, true));
    const log = await openDiskLog(dir, { segmentBytes: 64 * 1024 });
    const byLsn = new Map((await log.readAll()).map((r) => [r.lsn, Buffer.from(r.data).toString()]));
    for (const acked of all) {
      expect(acked.size).toBeGreaterThan(0);
      for (const [lsn, payload] of acked) expect(byLsn.get(lsn)).toBe(payload);
    }
    await log.close();
  });
});
