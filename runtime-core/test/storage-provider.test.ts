import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { LogStore, MediumContext, MediumStore } from "../src/spi.js";
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

describe("plugin media (ProtocolFactory.media)", () => {
  /** A plugin medium's store: memory logs, recording where the provider asked it to keep them. */
  function recordingStore(stable: boolean, withCheckpoints: boolean): { store: MediumStore; contexts: MediumContext[] } {
    const contexts: MediumContext[] = [];
    const store: MediumStore = {
      stable,
      openLog: async (ctx, name) => {
        contexts.push(ctx);
        ctx.warn(`opened ${name}`);
        return new MemoryLog(ctx.medium);
      },
      ...(withCheckpoints ? { openCheckpoints: async (ctx: MediumContext) => (contexts.push(ctx), createMemoryStorageProvider({ rank: 0, stable: new Map() }).openCheckpoints("local-disk")) } : {}),
    };
    return { store, contexts };
  }

  it("the disk provider opens a plugin medium through its store, in <dir>/media/<medium>/rank-<r>, once per name", async () => {
    const { store, contexts } = recordingStore(true, false);
    const warnings: string[] = [];
    const dir = join(tmp, "plugin");
    const p = createDiskStorageProvider({ dir, rank: 3, incarnation: 2, media: { "mirrored-disk": store }, onWarning: (w) => warnings.push(`${w.kind}: ${w.message}`) });
    const log = await p.openLog("mirrored-disk", "events");
    expect(log.medium).toBe("mirrored-disk");
    expect(await p.openLog("mirrored-disk", "events")).toBe(log);
    expect(contexts).toEqual([expect.objectContaining({ medium: "mirrored-disk", rank: 3, incarnation: 2, dir: join(dir, "media", "mirrored-disk", "rank-3"), sharedDir: join(dir, "shared", "media", "mirrored-disk", "rank-3") })]);
    expect(warnings).toEqual(["medium: opened events"]);
    // Its store keeps no checkpoints: one line saying so.
    await expect(p.openCheckpoints("mirrored-disk")).rejects.toThrow(/^storage medium "mirrored-disk" is not available: its store keeps no checkpoints/);
    await p.close();
  });

  it("a medium no store provides fails at open, in one line", async () => {
    const p = createDiskStorageProvider({ dir: join(tmp, "plugin2"), rank: 0, incarnation: 0, media: {} });
    const err = (await p.openLog("mirrored-disk", "events").catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(UnsupportedMediumError);
    expect(err.message).toMatch(/^storage medium "mirrored-disk" is not available: no store provides it: /);
    expect(err.message).not.toContain("\n");
    await expect(p.openCheckpoints("mirrored-disk")).rejects.toBeInstanceOf(UnsupportedMediumError);
    // A built-in name is never looked up in `media`; `toString` on the prototype is not a medium.
    await expect(p.openLog("toString", "x")).rejects.toBeInstanceOf(UnsupportedMediumError);
  });

  it("the memory provider simulates a plugin medium by `stable`: synced records survive a crash only on a stable one", async () => {
    const stableMedia = new Map();
    const media = { "mirrored-disk": recordingStore(true, true).store, "ram-cache": recordingStore(false, true).store };
    const inc0 = createMemoryStorageProvider({ rank: 0, stable: stableMedia, media });
    for (const m of ["mirrored-disk", "ram-cache"]) {
      const l = await inc0.openLog(m, "events");
      l.append(Buffer.from(m));
      await l.sync();
    }
    await (await inc0.openCheckpoints("mirrored-disk")).write({ index: 1, app: Buffer.from("a"), protocol: Buffer.from("p") }, { incremental: false });
    const inc1 = createMemoryStorageProvider({ rank: 0, stable: stableMedia, media });
    expect((await (await inc1.openLog("mirrored-disk", "events")).readAll()).length).toBe(1);
    expect((await (await inc1.openLog("ram-cache", "events")).readAll()).length).toBe(0);
    expect((await (await inc1.openCheckpoints("mirrored-disk")).latest())?.index).toBe(1);
    expect(await (await inc1.openCheckpoints("ram-cache")).latest()).toBeNull();
    await expect(inc1.openLog("tape", "x")).rejects.toThrow(/no store provides it/);
  });
});
