/**
 * Storage that disappeared is reported (StorageMissingError), not taken for
 * a fresh start: a log's first, last or every segment, a log or checkpoint
 * directory the rank manifest lists, the newest checkpoint, or a rank's whole
 * directory when an earlier incarnation is known to have opened it. Crash
 * windows between a file and the manifest that names it must not be taken
 * for losses.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  CorruptLogError,
  StorageMissingError,
  createDiskStorageProvider,
  openCheckpointStore,
  openDiskLog,
  type DiskLog,
} from "../src/storage/index.js";

const tmp = mkdtempSync(join(tmpdir(), "egida-missing-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(tmp, `d${++n}`);
const segFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith("seg-")).sort();
const text = (d: Uint8Array): string => Buffer.from(d).toString();

/** A closed log of 30 synced 50-byte records in segments of about 200 bytes (several segments). */
async function segmentedLog(dir: string): Promise<void> {
  const log = await openDiskLog(dir, { segmentBytes: 200 });
  for (let i = 0; i < 30; i++) {
    log.append(Buffer.alloc(50, i));
    await log.sync();
  }
  await log.close();
}

async function missing(p: Promise<unknown>): Promise<StorageMissingError> {
  const e = await p.then(
    (v) => {
      if (v && typeof (v as DiskLog).close === "function") void (v as DiskLog).close();
      return v;
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StorageMissingError);
  return e as StorageMissingError;
}

describe("disk log: missing segments", () => {
  it("a missing last segment: the log ended at lsn N where segments.json says the newest segment starts at M > N", async () => {
    const dir = fresh();
    await segmentedLog(dir);
    const segs = segFiles(dir);
    expect(segs.length).toBeGreaterThanOrEqual(4);
    expect(JSON.parse(readFileSync(join(dir, "segments.json"), "utf8"))).toEqual({ newest: Number(segs.at(-1)!.slice(4, -4)), resetting: false });
    rmSync(join(dir, segs.at(-1)!));
    const e = await missing(openDiskLog(dir));
    expect(e.file).toBe(join(dir, segs.at(-1)!));
    expect(e.message).toMatch(/missing its last segment\(s\): seg-\d+\.log is missing, so the log ends at lsn \d+/);
  });

  it("a last segment emptied is reported too", async () => {
    const dir = fresh();
    await segmentedLog(dir);
    writeFileSync(join(dir, segFiles(dir).at(-1)!), "");
    expect((await missing(openDiskLog(dir))).message).toMatch(/seg-\d+\.log is empty/);
  });

  it("a missing first segment: the first one left starts above the truncation point", async () => {
    const dir = fresh();
    await segmentedLog(dir);
    const segs = segFiles(dir);
    rmSync(join(dir, segs[0]!));
    const e = await missing(openDiskLog(dir));
    expect(e.message).toMatch(/missing its first segment\(s\): lsns 0 to \d+ are gone .*the truncation point file truncate is missing too/);
  });

  it("after a truncation: the segment holding the truncation point must remain", async () => {
    const dir = fresh();
    await segmentedLog(dir);
    let log = await openDiskLog(dir, { segmentBytes: 200 });
    await log.truncatePrefix(10);
    await log.close();
    const segs = segFiles(dir);
    expect(Number(segs[0]!.slice(4, -4))).toBeLessThanOrEqual(10);
    // Intact: reopens with records from 10 on.
    log = await openDiskLog(dir);
    expect((await log.readAll())[0]!.lsn).toBe(10);
    await log.close();
    rmSync(join(dir, segs[0]!));
    expect((await missing(openDiskLog(dir))).message).toMatch(/lsns 10 to \d+ are gone .*the truncation point is 10\)/);
  });

  it("every segment gone: reported, where it used to open as an empty log", async () => {
    const dir = fresh();
    await segmentedLog(dir);
    for (const s of segFiles(dir)) rmSync(join(dir, s));
    expect((await missing(openDiskLog(dir))).message).toMatch(/every segment of log .* is missing/);
  });

  it("a missing middle segment is still a CorruptLogError (a gap in lsns)", async () => {
    const dir = fresh();
    await segmentedLog(dir);
    rmSync(join(dir, segFiles(dir)[2]!));
    await expect(openDiskLog(dir)).rejects.toBeInstanceOf(CorruptLogError);
  });

  it("expectExisting: a missing directory or segments.json is reported; without it the log is created", async () => {
    const dir = fresh();
    expect((await missing(openDiskLog(dir, { expectExisting: true }))).message).toMatch(/does not exist, but an earlier incarnation/);
    expect(existsSync(dir)).toBe(false);
    await segmentedLog(dir);
    rmSync(join(dir, "segments.json"));
    expect((await missing(openDiskLog(dir, { expectExisting: true }))).message).toMatch(/lost its segments\.json/);
    // Not expected (a log from before segments.json): rebuilt from the segments, nothing lost.
    const log = await openDiskLog(dir);
    expect(log.nextLsn).toBe(30);
    await log.close();
    expect(existsSync(join(dir, "segments.json"))).toBe(true);
  });

  it("crash windows are not losses: segments.json naming an older segment, or a reset under way", async () => {
    const dir = fresh();
    await segmentedLog(dir);
    const segs = segFiles(dir);
    // A crash after a roll's segment became durable but before segments.json named it.
    writeFileSync(join(dir, "segments.json"), JSON.stringify({ newest: Number(segs.at(-2)!.slice(4, -4)), resetting: false }));
    let log = await openDiskLog(dir);
    expect(log.nextLsn).toBe(30);
    await log.close();
    expect(JSON.parse(readFileSync(join(dir, "segments.json"), "utf8")).newest).toBe(Number(segs.at(-1)!.slice(4, -4)));

    // A crash in the middle of open()'s reset to the truncation point (every old segment deleted, none made yet).
    log = await openDiskLog(dir);
    await log.truncatePrefix(30);
    await log.close();
    for (const s of segFiles(dir)) rmSync(join(dir, s));
    writeFileSync(join(dir, "segments.json"), JSON.stringify({ newest: 30, resetting: true }));
    log = await openDiskLog(dir);
    expect(log.nextLsn).toBe(30);
    expect(await log.readAll()).toEqual([]);
    await log.close();
    expect(JSON.parse(readFileSync(join(dir, "segments.json"), "utf8"))).toEqual({ newest: 30, resetting: false });
  });
});

describe("checkpoint store: missing checkpoints", () => {
  const ck = (index: number) => ({ index, app: Buffer.from(`app${index}`), protocol: Buffer.from("p") });

  it("the newest checkpoint deleted: reported at open, not a silent fall back to an older one", async () => {
    const dir = fresh();
    let s = await openCheckpointStore(dir);
    for (const i of [0, 1, 2]) await s.write(ck(i), { incremental: false });
    rmSync(join(dir, "ckpt-000000000002.manifest"));
    const e = await missing(openCheckpointStore(dir));
    expect(e.message).toMatch(/checkpoint 2 \(.*ckpt-000000000002\.manifest\) is missing, and no newer one is there \(the newest left is 1\)/);
    // An older one deleted is not a loss of the newest: it opens.
    const other = fresh();
    s = await openCheckpointStore(other);
    for (const i of [0, 1, 2]) await s.write(ck(i), { incremental: false });
    rmSync(join(other, "ckpt-000000000000.manifest"));
    s = await openCheckpointStore(other);
    expect(text((await s.latest())!.app)).toBe("app2");
  });

  it("gc that deletes every checkpoint, or older ones, is not taken for a loss", async () => {
    const dir = fresh();
    let s = await openCheckpointStore(dir);
    for (const i of [0, 1, 2]) await s.write(ck(i), { incremental: false });
    await s.gc(2);
    s = await openCheckpointStore(dir);
    expect(text((await s.latest())!.app)).toBe("app2");
    await s.gc(10);
    s = await openCheckpointStore(dir);
    expect(await s.latest()).toBeNull();
    await s.write(ck(11), { incremental: false });
    s = await openCheckpointStore(dir);
    expect(text((await s.latest())!.app)).toBe("app11");
  });

  it("expectExisting: a missing directory or latest.json is reported", async () => {
    const dir = fresh();
    expect((await missing(openCheckpointStore(dir, { expectExisting: true }))).message).toMatch(/checkpoint directory .* does not exist/);
    const s = await openCheckpointStore(dir);
    await s.write(ck(0), { incremental: false });
    rmSync(join(dir, "latest.json"));
    expect((await missing(openCheckpointStore(dir, { expectExisting: true }))).message).toMatch(/lost its latest\.json/);
  });
});

describe("disk provider: the rank manifest", () => {
  /** Incarnation 0 writes a local-disk log, an nfs-disk log and local-disk checkpoints, then closes. */
  async function firstIncarnation(dir: string): Promise<void> {
    const p = createDiskStorageProvider({ dir, rank: 1, incarnation: 0 });
    const l = await p.openLog("local-disk", "dets");
    const s = await p.openLog("nfs-disk", "events");
    l.append(Buffer.from("L"));
    s.append(Buffer.from("S"));
    await Promise.all([l.sync(), s.sync()]);
    await (await p.openCheckpoints("local-disk")).write({ index: 0, app: Buffer.from("a"), protocol: Buffer.from("p") }, { incremental: false });
    await p.close();
    expect(JSON.parse(readFileSync(join(dir, "local", "rank-1", "rank.json"), "utf8"))).toEqual({ format: 1, rank: 1, entries: ["checkpoints", "log-dets"] });
    expect(JSON.parse(readFileSync(join(dir, "shared", "rank-1", "rank.json"), "utf8"))).toEqual({ format: 1, rank: 1, entries: ["log-events"] });
  }
  const second = (dir: string, expectStorage: boolean) => createDiskStorageProvider({ dir, rank: 1, incarnation: 1, expectStorage });

  it("intact storage reopens under expectStorage, and a log first opened now is simply created", async () => {
    const dir = fresh();
    await firstIncarnation(dir);
    const p = second(dir, true);
    expect((await (await p.openLog("local-disk", "dets")).readAll()).map((r) => text(r.data))).toEqual(["L"]);
    expect((await (await p.openLog("nfs-disk", "events")).readAll()).map((r) => text(r.data))).toEqual(["S"]);
    expect(text((await (await p.openCheckpoints("local-disk")).latest())!.app)).toBe("a");
    expect(await (await p.openLog("local-disk", "new-one")).readAll()).toEqual([]);
    await p.close();
  });

  it("a rank directory deleted: reported when an earlier incarnation opened it (expectStorage), for each root", async () => {
    const dir = fresh();
    await firstIncarnation(dir);
    rmSync(join(dir, "local", "rank-1"), { recursive: true });
    rmSync(join(dir, "shared", "rank-1"), { recursive: true });
    const p = second(dir, true);
    expect((await missing(p.openLog("local-disk", "dets"))).message).toMatch(/rank 1's storage directory .*local\/rank-1 does not exist, but an earlier incarnation/);
    expect((await missing(p.openCheckpoints("local-disk"))).file).toBe(join(dir, "local", "rank-1"));
    // nfs-disk: the rank lock recreates the directory first, so it is there but empty.
    expect((await missing(p.openLog("nfs-disk", "events"))).message).toMatch(/shared\/rank-1 has no rank\.json \(the directory was deleted or emptied\)/);
    await p.close();
    // Without expectStorage (a rank that died before opening its storage left nothing) it starts afresh.
    const q = second(dir, false);
    expect(await (await q.openLog("local-disk", "dets")).readAll()).toEqual([]);
    await q.close();
  });

  it("a log or checkpoint directory the manifest lists is missing: reported even without expectStorage", async () => {
    const dir = fresh();
    await firstIncarnation(dir);
    rmSync(join(dir, "local", "rank-1", "log-dets"), { recursive: true });
    rmSync(join(dir, "local", "rank-1", "checkpoints"), { recursive: true });
    rmSync(join(dir, "shared", "rank-1", "log-events", "segments.json"));
    const p = second(dir, false);
    expect((await missing(p.openLog("local-disk", "dets"))).file).toBe(join(dir, "local", "rank-1", "log-dets"));
    expect((await missing(p.openCheckpoints("local-disk"))).file).toBe(join(dir, "local", "rank-1", "checkpoints"));
    expect((await missing(p.openLog("nfs-disk", "events"))).message).toMatch(/lost its segments\.json/);
    await p.close();
  });
});
