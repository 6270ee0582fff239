import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CorruptLogError, LogFailedError, openDiskLog, type StorageWarning } from "../src/storage/index.js";
import { HEADER_BYTES } from "../src/storage/record-format.js";

const tmp = mkdtempSync(join(tmpdir(), "egida-disklog-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(tmp, `log${++n}`);
const text = (d: Uint8Array): string => Buffer.from(d).toString();
const segFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith("seg-")).sort();

describe("disk log", () => {
  it("round-trips records and continues lsns across reopen", async () => {
    const dir = fresh();
    let log = await openDiskLog(dir);
    expect(log.append(Buffer.from("a"))).toBe(0);
    expect(log.append(Buffer.from("bb"))).toBe(1);
    // readAll sees buffered records too.
    expect((await log.readAll()).map((r) => text(r.data))).toEqual(["a", "bb"]);
    await log.sync();
    log.append(new Uint8Array(0));
    await log.close();
    log = await openDiskLog(dir);
    expect(log.nextLsn).toBe(3);
    const recs = await log.readAll();
    expect(recs.map((r) => [r.lsn, text(r.data)])).toEqual([[0, "a"], [1, "bb"], [2, ""]]);
    expect(log.append(Buffer.from("c"))).toBe(3);
    await log.close();
  });

  it("copies appended data (the caller may reuse its buffer)", async () => {
    const log = await openDiskLog(fresh());
    const b = Buffer.from("one");
    log.append(b);
    b.write("two");
    await log.sync();
    expect(text((await log.readAll())[0]!.data)).toBe("one");
    await log.close();
  });

  it("group commit: concurrent syncs share fdatasyncs and each resolves only after its record is written", async () => {
    const dir = fresh();
    const log = await openDiskLog(dir);
    const writers = 64;
    const perWriter = 10;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let k = 0; k < perWriter; k++) {
          const lsn = log.append(Buffer.from(`${w}:${k}`));
          await log.sync();
          // Durable means written to the segment file, not just buffered.
          const bytes = statSync(join(dir, segFiles(dir)[0]!)).size;
          expect(bytes).toBeGreaterThanOrEqual((lsn + 1) * HEADER_BYTES);
        }
      }),
    );
    expect(log.stats.records).toBe(writers * perWriter);
    expect(log.stats.syncs).toBeLessThan(writers * perWriter / 4);
    expect(log.stats.syncs).toBeGreaterThanOrEqual(perWriter);
    expect(log.stats.writes).toBe(log.stats.syncs);
    await log.close();
  });

  it("sync with nothing new does not fdatasync", async () => {
    const log = await openDiskLog(fresh());
    log.append(Buffer.from("x"));
    await log.sync();
    await log.sync();
    await Promise.all([log.sync(), log.sync()]);
    expect(log.stats.syncs).toBe(1);
    await log.close();
  });

  it("detects, truncates and reports a torn tail", async () => {
    const dir = fresh();
    let log = await openDiskLog(dir);
    for (let i = 0; i < 5; i++) log.append(Buffer.from(`rec${i}`));
    await log.close();
    const seg = join(dir, segFiles(dir)[0]!);
    const good = statSync(seg).size;
    // A half-written record: a header promising more data than there is.
    const torn = Buffer.alloc(HEADER_BYTES + 3);
    torn.writeUInt16LE(0xe61d, 0);
    torn.writeUInt32LE(100, 4);
    appendFileSync(seg, torn);
    const warnings: StorageWarning[] = [];
    log = await openDiskLog(dir, { onWarning: (w) => warnings.push(w) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ kind: "torn-tail", file: seg, offset: good });
    expect(statSync(seg).size).toBe(good);
    expect((await log.readAll()).map((r) => text(r.data))).toEqual(["rec0", "rec1", "rec2", "rec3", "rec4"]);
    expect(log.append(Buffer.from("next"))).toBe(5);
    await log.close();
    // The repair is durable: no warning the second time.
    warnings.length = 0;
    log = await openDiskLog(dir, { onWarning: (w) => warnings.push(w) });
    expect(warnings).toHaveLength(0);
    expect(log.nextLsn).toBe(6);
    await log.close();
  });

  it("treats a short header and garbage (zeros) at the tail as torn", async () => {
    const dir = fresh();
    let log = await openDiskLog(dir);
    log.append(Buffer.from("keep"));
    await log.close();
    const seg = join(dir, segFiles(dir)[0]!);
    appendFileSync(seg, Buffer.alloc(4096));
    const warnings: StorageWarning[] = [];
    log = await openDiskLog(dir, { onWarning: (w) => warnings.push(w) });
    expect(warnings[0]?.offset).toBe(HEADER_BYTES + 4);
    expect((await log.readAll()).length).toBe(1);
    await log.close();
  });

  it("refuses corruption in the middle of a segment, naming file and offset", async () => {
    const dir = fresh();
    let log = await openDiskLog(dir);
    for (let i = 0; i < 10; i++) {
      log.append(Buffer.from(`record-${i}`));
      await log.sync();
    }
    await log.close();
    const seg = join(dir, segFiles(dir)[0]!);
    const bytes = readFileSync(seg);
    const recSize = HEADER_BYTES + "record-0".length;
    const badOffset = 3 * recSize;
    bytes[badOffset + HEADER_BYTES + 2] = bytes[badOffset + HEADER_BYTES + 2]! ^ 0xff; // flip a data byte of record 3
    writeFileSync(seg, bytes);
    const err = await openDiskLog(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptLogError);
    expect(err).toMatchObject({ file: seg, offset: badOffset });
    expect(String((err as Error).message)).toMatch(/crc mismatch/);
    // Nothing was truncated: the data is left for an operator.
    expect(statSync(seg).size).toBe(bytes.length);
  });

  it("rolls segments, deletes whole segments below truncatePrefix, durably", async () => {
    const dir = fresh();
    let log = await openDiskLog(dir, { segmentBytes: 1024 });
    const payload = Buffer.alloc(100, 7);
    for (let i = 0; i < 100; i++) {
      log.append(payload);
      if (i % 5 === 4) await log.sync();
    }
    await log.sync();
    const before = segFiles(dir);
    expect(before.length).toBeGreaterThanOrEqual(8);
    await log.truncatePrefix(60);
    const after = segFiles(dir);
    expect(after.length).toBeLessThan(before.length);
    expect(log.stats.segmentsDeleted).toBe(before.length - after.length);
    // The surviving first segment starts at or below 60 and the next one above it.
    const firsts = after.map((f) => Number(f.slice(4, -4)));
    expect(firsts[0]).toBeLessThanOrEqual(60);
    expect(firsts[1]).toBeGreaterThan(60);
    expect((await log.readAll())[0]!.lsn).toBe(60);
    await log.close();

    log = await openDiskLog(dir, { segmentBytes: 1024 });
    const recs = await log.readAll();
    expect(recs.map((r) => r.lsn)).toEqual(Array.from({ length: 40 }, (_, i) => 60 + i));
    expect(log.nextLsn).toBe(100);
    await expect(log.truncatePrefix(101)).rejects.toThrow(RangeError);
    await log.truncatePrefix(100);
    expect(await log.readAll()).toEqual([]);
    await log.close();
    log = await openDiskLog(dir, { segmentBytes: 1024 });
    expect(log.nextLsn).toBe(100);
    expect(await log.readAll()).toEqual([]);
    await log.close();
  });

  it("never reuses lsns below a durable truncation point, even if unsynced records were lost", async () => {
    const dir = fresh();
    let log = await openDiskLog(dir);
    log.append(Buffer.from("a"));
    await log.sync();
    log.append(Buffer.from("b")); // lsn 1, never synced
    await log.truncatePrefix(2);
    // Simulate losing the unsynced record: drop the handle without close (no flush).
    log = await openDiskLog(dir);
    expect(log.nextLsn).toBe(2);
    expect(await log.readAll()).toEqual([]);
    await log.close();
  });

  it("refuses a missing middle segment", async () => {
    const dir = fresh();
    const log = await openDiskLog(dir, { segmentBytes: 200 });
    for (let i = 0; i < 30; i++) {
      log.append(Buffer.alloc(50));
      await log.sync();
    }
    await log.close();
    const segs = segFiles(dir);
    rmSync(join(dir, segs[2]!));
    await expect(openDiskLog(dir)).rejects.toBeInstanceOf(CorruptLogError);
  });

  it("fails closed after an I/O error", async () => {
    const log = await openDiskLog(fresh(), {
      beforeFlush: () => Promise.reject(new Error("EIO (injected)")),
    });
    log.append(Buffer.from("x"));
    await expect(log.sync()).rejects.toThrow(/EIO/);
    expect(() => log.append(Buffer.from("y"))).toThrow(LogFailedError);
    await expect(log.sync()).rejects.toBeInstanceOf(LogFailedError);
  });
});
