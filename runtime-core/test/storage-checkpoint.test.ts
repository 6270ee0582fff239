import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Checkpoint } from "../src/spi.js";
import { CorruptCheckpointError, MemoryCheckpointStore, openCheckpointStore, type StorageWarning } from "../src/storage/index.js";

const tmp = mkdtempSync(join(tmpdir(), "egida-ckpt-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(tmp, `c${++n}`);
const CHUNK = 4096;

/** Deterministic pseudo-random bytes so every chunk differs. */
function bytes(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function ckpt(index: number, app: Uint8Array, protocol: Uint8Array = Buffer.from(`proto-${index}`)): Checkpoint {
  return { index, app, protocol };
}

function expectSame(a: Checkpoint | null, b: Checkpoint): void {
  expect(a).not.toBeNull();
  expect(a!.index).toBe(b.index);
  expect(Buffer.from(a!.app).equals(Buffer.from(b.app))).toBe(true);
  expect(Buffer.from(a!.protocol).equals(Buffer.from(b.protocol))).toBe(true);
}

describe("disk checkpoint store", () => {
  it("round-trips full and incremental checkpoints, also after reopen", async () => {
    const dir = fresh();
    let s = await openCheckpointStore(dir, { chunkBytes: CHUNK });
    expect(await s.latest()).toBeNull();
    const c0 = ckpt(0, bytes(10 * CHUNK + 123, 1));
    await s.write(c0, { incremental: false });
    const app1 = Buffer.from(c0.app);
    app1[5 * CHUNK + 7] = app1[5 * CHUNK + 7]! ^ 1;
    const c1 = ckpt(1, app1);
    await s.write(c1, { incremental: true });
    const c2 = ckpt(2, new Uint8Array(0), new Uint8Array(0));
    await s.write(c2, { incremental: true });
    expectSame(await s.load(0), c0);
    expectSame(await s.load(1), c1);
    expectSame(await s.latest(), c2);
    expect(await s.list()).toEqual([0, 1, 2]);
    s = await openCheckpointStore(dir, { chunkBytes: CHUNK });
    expectSame(await s.load(1), c1);
    expect(await s.load(7)).toBeNull();
  });

  it("cuts app ++ protocol into chunks across their boundary, with and without repeated chunks", async () => {
    const dir = fresh();
    const s = await openCheckpointStore(dir, { chunkBytes: CHUNK });
    // Every chunk fresh: the pack is the two parts back to back; one chunk straddles them.
    const c0 = ckpt(0, bytes(3 * CHUNK + 100, 7), bytes(2 * CHUNK + 5, 8));
    await s.write(c0, { incremental: false });
    // Zero pages repeat within the checkpoint: stored once, the straddling chunk still assembled.
    const c1 = ckpt(1, new Uint8Array(4 * CHUNK + 17), Buffer.concat([new Uint8Array(CHUNK - 17), bytes(CHUNK + 3, 9)]));
    await s.write(c1, { incremental: false });
    const packs = readdirSync(dir).filter((f) => f.startsWith("pack-"));
    const size = (i: number): number => readFileSync(join(dir, packs.find((f) => f.startsWith(`pack-${String(i).padStart(12, "0")}`))!)).length;
    expect(size(0)).toBe(5 * CHUNK + 105);
    // Chunks: 4 identical zero chunks + the straddling one (17 + CHUNK - 17 zero bytes: the same zero chunk) + the tail.
    expect(size(1)).toBe(CHUNK + CHUNK + 3);
    expectSame(await s.load(0), c0);
    expectSame(await s.load(1), c1);
  });

  it("incremental writes only the changed chunks; full writes all", async () => {
    const s = await openCheckpointStore(fresh(), { chunkBytes: CHUNK });
    const app = Buffer.from(bytes(64 * CHUNK, 2));
    await s.write(ckpt(0, app), { incremental: false });
    const full = s.stats.bytesWritten;
    expect(full).toBeGreaterThan(64 * CHUNK);
    app[10] = app[10]! ^ 1;
    app[40 * CHUNK] = app[40 * CHUNK]! ^ 1;
    await s.write(ckpt(1, app), { incremental: true });
    const inc = s.stats.bytesWritten - full;
    expect(inc).toBeLessThan(full / 8);
    expect(s.stats.chunksReused).toBe(62); // 64 app chunks + 1 protocol chunk; app chunks 0 and 40 and the protocol changed
    await s.write(ckpt(2, app), { incremental: false });
    expect(s.stats.bytesWritten - full - inc).toBeGreaterThan(64 * CHUNK);
    expectSame(await s.load(1), ckpt(1, app));
  });

  it("ignores and removes a leftover temp file (a write that crashed before rename)", async () => {
    const dir = fresh();
    let s = await openCheckpointStore(dir, { chunkBytes: CHUNK });
    const c0 = ckpt(0, bytes(3 * CHUNK, 3));
    await s.write(c0, { incremental: false });
    writeFileSync(join(dir, "ckpt-000000000001.manifest.999.1.tmp"), "{garbage");
    writeFileSync(join(dir, "pack-000000000001-deadbeef.bin"), "orphan pack");
    expect(await s.list()).toEqual([0]);
    expectSame(await s.latest(), c0);
    s = await openCheckpointStore(dir, { chunkBytes: CHUNK });
    const files = readdirSync(dir);
    expect(files.some((f) => f.endsWith(".tmp"))).toBe(false);
    expect(files).not.toContain("pack-000000000001-deadbeef.bin");
    expectSame(await s.latest(), c0);
  });

  it("detects a corrupt chunk (naming file, offset and chunk) and latest() falls back", async () => {
    const dir = fresh();
    const warnings: StorageWarning[] = [];
    const s = await openCheckpointStore(dir, { chunkBytes: CHUNK, onWarning: (w) => warnings.push(w) });
    const c0 = ckpt(0, bytes(4 * CHUNK, 4));
    await s.write(c0, { incremental: false });
    const c1 = ckpt(1, bytes(4 * CHUNK, 5));
    await s.write(c1, { incremental: false });
    const pack = readdirSync(dir).find((f) => f.startsWith("pack-000000000001"))!;
    const buf = readFileSync(join(dir, pack));
    buf[2 * CHUNK + 100] = buf[2 * CHUNK + 100]! ^ 0x40; // chunk 2 of checkpoint 1
    writeFileSync(join(dir, pack), buf);
    const err = await s.load(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptCheckpointError);
    expect(err).toMatchObject({ file: join(dir, pack), offset: 2 * CHUNK, chunk: 2 });
    expectSame(await s.latest(), c0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ kind: "corrupt-checkpoint", file: join(dir, pack) });
  });

  it("detects a corrupt manifest", async () => {
    const dir = fresh();
    const s = await openCheckpointStore(dir, { chunkBytes: CHUNK });
    await s.write(ckpt(0, bytes(100, 6)), { incremental: false });
    await s.write(ckpt(1, bytes(100, 7)), { incremental: false });
    const m = join(dir, "ckpt-000000000001.manifest");
    writeFileSync(m, readFileSync(m, "utf8").replace('"index":1', '"index":9'));
    await expect(s.load(1)).rejects.toMatchObject({ name: "CorruptCheckpointError", file: m, offset: 0 });
    expect((await s.latest())?.index).toBe(0);
  });

  it("gc removes old manifests and unreferenced packs, keeping chunks still shared", async () => {
    const dir = fresh();
    const s = await openCheckpointStore(dir, { chunkBytes: CHUNK });
    const app = Buffer.from(bytes(8 * CHUNK, 8));
    await s.write(ckpt(0, app), { incremental: false });
    app[0] = app[0]! ^ 1;
    await s.write(ckpt(1, app), { incremental: true }); // shares 7 chunks with 0
    app[0] = app[0]! ^ 2;
    await s.write(ckpt(2, bytes(8 * CHUNK, 9)), { incremental: false });
    const packs = (): string[] => readdirSync(dir).filter((f) => f.startsWith("pack-"));
    expect(packs()).toHaveLength(3);
    await s.gc(1);
    expect(await s.list()).toEqual([1, 2]);
    expect(packs()).toHaveLength(3); // pack 0 still holds 7 chunks of checkpoint 1
    expect((await s.load(1))?.index).toBe(1);
    await s.gc(2);
    expect(await s.list()).toEqual([2]);
    expect(packs()).toHaveLength(1);
    expect((await s.latest())?.index).toBe(2);
  });
});

describe("memory checkpoint store", () => {
  it("round-trips, copies, counts incremental bytes, and gcs", async () => {
    const s = new MemoryCheckpointStore("local-disk", CHUNK);
    const app = Buffer.from(bytes(8 * CHUNK, 10));
    await s.write(ckpt(0, app), { incremental: false });
    app[1] = app[1]! ^ 1;
    await s.write(ckpt(1, app), { incremental: true });
    expect(s.stats.bytesWritten).toBeLessThan(8 * CHUNK + 2 * CHUNK);
    app[2] = app[2]! ^ 1; // mutating after write must not change the stored checkpoint
    expect((await s.load(1))!.app[2]).toBe(bytes(8 * CHUNK, 10)[2]);
    await s.gc(1);
    expect(await s.list()).toEqual([1]);
    expect((await s.latest())?.index).toBe(1);
  });
});
