/**
 * The mirrored-disk plugin's stores (examples/plugins/mirrored-disk): a log on
 * two directories recovers from whichever copy holds the longer valid
 * prefix and repairs the other; checkpoints survive the loss of a copy; a
 * full disk is one clear StorageIoError.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MirroredCheckpoints } from "../../examples/plugins/mirrored-disk/src/mirrored-checkpoints.js";
import { MirroredLog, scanCopy } from "../../examples/plugins/mirrored-disk/src/mirrored-log.js";
import { mirrorDirs, MIRRORS_ENV } from "../../examples/plugins/mirrored-disk/src/runtime.js";
// The classes the plugin throws: runtime-core as the plugin resolves it (its package exports), not its sources.
import { LogFailedError, StorageIoError } from "@egida/runtime-core/storage";

let root: string;
let dirs: [string, string];
let warnings: string[];
const opts = () => ({ warn: (m: string) => warnings.push(m) });
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "egida-mirror-"));
  dirs = [join(root, "a"), join(root, "b")];
  warnings = [];
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function writeLog(n: number, name = "events"): Promise<void> {
  const log = await MirroredLog.open(dirs, name, opts());
  for (let i = 0; i < n; i++) log.append(bytes(`record-${i}`));
  await log.sync();
  await log.close();
}

async function reopen(name = "events") {
  const log = await MirroredLog.open(dirs, name, opts());
  const records = await log.readAll();
  return { log, lsns: records.map((r) => r.lsn), data: records.map((r) => text(r.data)) };
}

const copy = (i: 0 | 1, name = "events") => join(dirs[i], `log-${name}`);

describe("mirrored-disk log", () => {
  it("both copies hold every synced record, byte for byte; a reopened log continues the lsns", async () => {
    const log = await MirroredLog.open(dirs, "events", opts());
    const buf = bytes("shared buffer");
    expect(log.append(buf)).toBe(0);
    buf.fill(0); // the log copied it
    await Promise.all([log.sync(), log.sync()]);
    expect(log.append(bytes("second"))).toBe(1);
    await log.sync();
    await log.close();
    expect(readFileSync(copy(0))).toEqual(readFileSync(copy(1)));
    const r = await reopen();
    expect(r.data).toEqual(["shared buffer", "second"]);
    expect(r.log.nextLsn).toBe(2);
    expect(warnings).toEqual([]);
    await r.log.close();
  });

  it("a torn tail on one copy: the other copy's longer prefix wins, and the torn copy is rewritten to match", async () => {
    await writeLog(5);
    truncateSync(copy(0), statSync(copy(0)).size - 3); // the last record torn on copy a
    const r = await reopen();
    expect(r.lsns).toEqual([0, 1, 2, 3, 4]);
    expect(warnings.some((w) => w.includes("dropped") && w.includes("/a/"))).toBe(true);
    expect(warnings.some((w) => w.includes("copies differ"))).toBe(true);
    r.log.append(bytes("after repair"));
    await r.log.sync();
    await r.log.close();
    expect(readFileSync(copy(0))).toEqual(readFileSync(copy(1)));
  });

  it("a torn tail on both copies (a crash mid-write): the longer valid prefix is recovered, never a partial record", async () => {
    await writeLog(6);
    truncateSync(copy(0), statSync(copy(0)).size - 40);
    truncateSync(copy(1), statSync(copy(1)).size - 5);
    const r = await reopen();
    expect(r.lsns).toEqual([0, 1, 2, 3, 4]);
    expect(r.log.nextLsn).toBe(5);
    await r.log.close();
  });

  it("one copy corrupt in the middle (a flipped byte): recovery reads the other copy whole", async () => {
    await writeLog(8);
    const b = readFileSync(copy(1));
    b[60] = b[60]! ^ 0xff; // inside an early record of copy b
    writeFileSync(copy(1), b);
    expect(scanCopy(copy(1), b).records.length).toBeLessThan(8);
    const r = await reopen();
    expect(r.data).toEqual(Array.from({ length: 8 }, (_, i) => `record-${i}`));
    await r.log.close();
    expect(readFileSync(copy(0))).toEqual(readFileSync(copy(1)));
  });

  it("a copy lost entirely (a replaced disk): recovered from the other and written back", async () => {
    await writeLog(3);
    rmSync(dirs[0], { recursive: true });
    const r = await reopen();
    expect(r.lsns).toEqual([0, 1, 2]);
    await r.log.close();
    expect(readFileSync(copy(0))).toEqual(readFileSync(copy(1)));
  });

  it("truncatePrefix keeps lsns unique: everything truncated, the next record still gets the next lsn after a reopen", async () => {
    const log = await MirroredLog.open(dirs, "events", opts());
    for (let i = 0; i < 4; i++) log.append(bytes(`r${i}`));
    await log.truncatePrefix(2); // also makes the pending records durable
    expect((await log.readAll()).map((r) => r.lsn)).toEqual([2, 3]);
    await log.truncatePrefix(4);
    await log.close();
    const r = await reopen();
    expect(r.lsns).toEqual([]);
    expect(r.log.nextLsn).toBe(4);
    expect(r.log.append(bytes("x"))).toBe(4);
    await r.log.close();
  });

  it("a crash between the two rewrites of truncatePrefix (copy a truncated, copy b not): the truncation point is the higher base", async () => {
    await writeLog(5);
    const old = readFileSync(copy(1));
    const log = await MirroredLog.open(dirs, "events", opts());
    await log.truncatePrefix(3);
    await log.close();
    writeFileSync(copy(1), old); // as if the crash came before copy b's rename
    const r = await reopen();
    expect(r.lsns).toEqual([3, 4]);
    await r.log.close();
  });

  it("appends during a sync in flight get fresh lsns (group commit keeps the order)", async () => {
    const log = await MirroredLog.open(dirs, "events", opts());
    log.append(bytes("a"));
    const first = log.sync();
    expect(log.append(bytes("b"))).toBe(1);
    const second = log.sync();
    await Promise.all([first, second]);
    await log.close();
    expect((await reopen()).data).toEqual(["a", "b"]);
  });

  it("EGIDA_MIRRORED_DISK_DIRS puts the copies on two given directories; anything but two different ones is refused", () => {
    const ctx = { medium: "mirrored-disk", rank: 3, incarnation: 0, dir: "/s/media/mirrored-disk/rank-3", sharedDir: "/x", warn: () => {} };
    expect(mirrorDirs(ctx, {})).toEqual(["/s/media/mirrored-disk/rank-3/a", "/s/media/mirrored-disk/rank-3/b"]);
    expect(mirrorDirs(ctx, { [MIRRORS_ENV]: "/disk1:/disk2" })).toEqual(["/disk1/rank-3", "/disk2/rank-3"]);
    expect(() => mirrorDirs(ctx, { [MIRRORS_ENV]: "/disk1" })).toThrow(/expected two different directories/);
  });
});

describe("mirrored-disk checkpoints", () => {
  const ckpt = (index: number) => ({ index, app: bytes(`app-${index}`), protocol: bytes(`proto-${index}`) });

  it("written to both copies; the newest survives the loss of either copy", async () => {
    const store = await MirroredCheckpoints.open(dirs, opts());
    await store.write(ckpt(1), { incremental: false });
    await store.write(ckpt(2), { incremental: true });
    expect(await store.list()).toEqual([1, 2]);
    rmSync(dirs[0], { recursive: true });
    mkdirSync(dirs[0]);
    const again = await MirroredCheckpoints.open(dirs, opts());
    const latest = await again.latest();
    expect(latest?.index).toBe(2);
    expect(text(latest!.app)).toBe("app-2");
  });
});

/**
 * A full disk: a 64 KiB tmpfs under copy b. Needs root (mount); the session
 * and CI have it, elsewhere the test is skipped with this reason.
 */
function mountSmallTmpfs(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("mirrored-disk on a full disk", () => {
  it("a sync that runs out of space on one copy fails with one StorageIoError naming the file and ENOSPC; the log then refuses appends", async (t) => {
    if (!mountSmallTmpfs(dirs[1])) t.skip("cannot mount a tmpfs (needs root): no full disk to test with");
    try {
      const log = await MirroredLog.open(dirs, "events", opts());
      let failure: unknown;
      for (let i = 0; i < 100 && failure === undefined; i++) {
        log.append(new Uint8Array(8192).fill(i));
        await log.sync().catch((e: unknown) => (failure = e));
      }
      expect(failure).toBeInstanceOf(StorageIoError);
      expect((failure as Error).message).toBe(`cannot append to ${copy(1)}: ENOSPC`);
      expect(() => log.append(bytes("more"))).toThrow(LogFailedError);
      await log.close();
    } finally {
      // Lazy: the kernel may still count the closed files for a moment (as runtime-core/test/env-faults.test.ts does).
      execFileSync("umount", ["-l", dirs[1]], { stdio: "pipe" });
    }
  });
});
