import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { LogStore } from "../src/spi.js";
import {
  LockHeldError,
  MemoryLog,
  UnsupportedMediumError,
  createDiskStorageProvider,
  createMemoryStorageProvider,
  type MemoryStableMedia,
} from "../src/storage/index.js";

const tmp = mkdtempSync(join(tmpdir(), "egida-provider-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const text = (d: Uint8Array): string => Buffer.from(d).toString();

describe("disk storage provider", () => {
  it("puts local-disk and nfs-disk where documented and keeps data across incarnations", async () => {
    const dir = join(tmp, "p1");
    const shared = join(tmp, "p1-shared");
    let p = createDiskStorageProvider({ dir, sharedDir: shared, rank: 2, incarnation: 0 });
    const local = await p.openLog("local-disk", "dets");
    expect(await p.openLog("local-disk", "dets")).toBe(local);
    const nfs = await p.openLog("nfs-disk", "dets");
    expect(nfs.medium).toBe("nfs-disk");
    local.append(Buffer.from("L"));
    nfs.append(Buffer.from("N"));
    await Promise.all([local.sync(), nfs.sync()]);
    const ck = await p.openCheckpoints("nfs-disk");
    await ck.write({ index: 0, app: Buffer.from("app"), protocol: Buffer.from("p") }, { incremental: false });
    expect(existsSync(join(dir, "local", "rank-2", "log-dets"))).toBe(true);
    expect(existsSync(join(shared, "rank-2", "log-dets"))).toBe(true);
    expect(existsSync(join(shared, "rank-2", "checkpoints"))).toBe(true);
    expect(existsSync(join(shared, "rank-2", "lock"))).toBe(true);

    // Same incarnation again while the first is live: refused.
    const dup = createDiskStorageProvider({ dir, sharedDir: shared, rank: 2, incarnation: 0 });
    await expect(dup.openLog("nfs-disk", "dets")).rejects.toBeInstanceOf(LockHeldError);

    await p.close();
    expect(existsSync(join(shared, "rank-2", "lock"))).toBe(false);
    p = createDiskStorageProvider({ dir, sharedDir: shared, rank: 2, incarnation: 1 });
    expect((await (await p.openLog("local-disk", "dets")).readAll()).map((r) => text(r.data))).toEqual(["L"]);
    expect((await (await p.openLog("nfs-disk", "dets")).readAll()).map((r) => text(r.data))).toEqual(["N"]);
    expect(text((await (await p.openCheckpoints("nfs-disk")).latest())!.app)).toBe("app");
    const vol = await p.openLog("volatile-memory-of-self", "msgs");
    expect(vol).toBeInstanceOf(MemoryLog);
    await p.close();
  });

  it("needs a factory for volatile-memory-of-processes, and uses it when given", async () => {
    const p = createDiskStorageProvider({ dir: join(tmp, "p2"), rank: 0, incarnation: 0 });
    const err = await p.openLog("volatile-memory-of-processes", "dets").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedMediumError);
    expect(String(err)).toMatch(/replicated/);
    await expect(p.openLog("tape", "x")).rejects.toBeInstanceOf(UnsupportedMediumError);
    await expect(p.openLog("local-disk", "../escape")).rejects.toThrow(RangeError);
    const names: string[] = [];
    const q = createDiskStorageProvider({
      dir: join(tmp, "p3"),
      rank: 0,
      incarnation: 0,
      replicated: (name) => {
        names.push(name);
        return Promise.resolve(new MemoryLog("volatile-memory-of-processes"));
      },
    });
    expect((await q.openLog("volatile-memory-of-processes", "dets")).medium).toBe("volatile-memory-of-processes");
    expect(names).toEqual(["dets"]);
    await p.close();
    await q.close();
  });
});

describe("memory storage provider (simulation)", () => {
  it("stable media keep synced records across a simulated crash; unsynced and volatile ones are lost", async () => {
    const stable: MemoryStableMedia = new Map();
    const inc0 = createMemoryStorageProvider({ rank: 1, stable });
    const disk: LogStore = await inc0.openLog("local-disk", "dets");
    const vol = await inc0.openLog("volatile-memory-of-self", "msgs");
    disk.append(Buffer.from("a"));
    disk.append(Buffer.from("b"));
    await disk.sync();
    disk.append(Buffer.from("lost"));
    vol.append(Buffer.from("v"));
    const ck = await inc0.openCheckpoints("nfs-disk");
    await ck.write({ index: 3, app: Buffer.from("s"), protocol: new Uint8Array(0) }, { incremental: false });

    // Crash: the simulator drops inc0 and starts a new provider with the same Map.
    const inc1 = createMemoryStorageProvider({ rank: 1, stable });
    const disk1 = await inc1.openLog("local-disk", "dets");
    expect((await disk1.readAll()).map((r) => text(r.data))).toEqual(["a", "b"]);
    expect(disk1.nextLsn).toBe(2);
    expect(await (await inc1.openLog("volatile-memory-of-self", "msgs")).readAll()).toEqual([]);
    expect((await (await inc1.openCheckpoints("nfs-disk")).latest())?.index).toBe(3);
    // Other ranks do not see it.
    const other = createMemoryStorageProvider({ rank: 2, stable });
    expect(await (await other.openLog("local-disk", "dets")).readAll()).toEqual([]);
    await expect(inc1.openLog("volatile-memory-of-processes", "d")).rejects.toBeInstanceOf(UnsupportedMediumError);
  });

  it("memory log truncatePrefix keeps lsns and drops the prefix", async () => {
    const log = new MemoryLog();
    for (let i = 0; i < 5; i++) log.append(Buffer.from(String(i)));
    await log.truncatePrefix(3);
    expect((await log.readAll()).map((r) => r.lsn)).toEqual([3, 4]);
    expect(log.append(Buffer.from("5"))).toBe(5);
    await expect(log.truncatePrefix(9)).rejects.toThrow(RangeError);
  });
});
