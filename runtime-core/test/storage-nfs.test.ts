import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LOCK_FILE, LockHeldError, LockLostError, RankLock, openNfsLog, rankDir, type StorageWarning } from "../src/storage/index.js";

const tmp = mkdtempSync(join(tmpdir(), "egida-nfs-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => rankDir(join(tmp, `shared${++n}`), 3);

/** A pid that is certainly dead: a child that already exited. */
function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    p.on("exit", () => resolve(p.pid!));
  });
}

describe("NFS rank lock", () => {
  it("refuses a second live holder of the same incarnation with a clear error", async () => {
    const dir = fresh();
    const a = await RankLock.acquire(dir, { incarnation: 0 });
    const err = await RankLock.acquire(dir, { incarnation: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockHeldError);
    expect((err as LockHeldError).message).toContain(`pid ${process.pid}`);
    expect((err as LockHeldError).message).toContain("incarnation 0");
    expect((err as LockHeldError).file).toBe(join(dir, LOCK_FILE));
    await a.release();
    // Released: free again.
    const b = await RankLock.acquire(dir, { incarnation: 0 });
    await b.release();
  });

  it("refuses an older incarnation while a newer one holds the lock (even on another host)", async () => {
    const dir = fresh();
    const a = await RankLock.acquire(dir, { incarnation: 5, host: "other-host" });
    await expect(RankLock.acquire(dir, { incarnation: 4 })).rejects.toThrow(/newer incarnation/);
    await expect(RankLock.acquire(dir, { incarnation: 5 })).rejects.toBeInstanceOf(LockHeldError);
    await a.release();
  });

  it("takes over a lock whose holder pid is dead on this host, and reports it", async () => {
    const dir = fresh();
    const pid = await deadPid();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), incarnation: 2, token: "old", since: "" }));
    const warnings: StorageWarning[] = [];
    const l = await RankLock.acquire(dir, { incarnation: 2, onWarning: (w) => warnings.push(w) });
    expect(warnings[0]?.kind).toBe("lock-stolen");
    expect(warnings[0]?.message).toContain(`pid ${pid}`);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")).token).toBe(l.holder.token);
    await l.release();
  });

  it("takes over from an older incarnation, and the old holder is fenced off on its next flush", async () => {
    const dir = fresh();
    const old = await RankLock.acquire(dir, { incarnation: 1, host: "host-a" });
    const oldLog = await openNfsLog(dir, "dets", { lock: old });
    oldLog.append(Buffer.from("before"));
    await oldLog.sync();
    const next = await RankLock.acquire(dir, { incarnation: 2, checkMs: 0 });
    const newLog = await openNfsLog(dir, "dets", { lock: next });
    expect((await newLog.readAll()).map((r) => Buffer.from(r.data).toString())).toEqual(["before"]);
    // The zombie writes again: refused, not interleaved into the successor's log.
    oldLog.append(Buffer.from("zombie"));
    await new Promise((r) => setTimeout(r, 10));
    await expect(old.verify(true)).rejects.toBeInstanceOf(LockLostError);
    await expect(openNfsLog(dir, "other", { lock: old })).rejects.toBeInstanceOf(LockLostError);
    newLog.append(Buffer.from("after"));
    await newLog.sync();
    expect((await newLog.readAll()).map((r) => Buffer.from(r.data).toString())).toEqual(["before", "after"]);
    expect(newLog.medium).toBe("nfs-disk");
    await newLog.close();
    await next.release();
  });

  it("flushes of a fenced holder fail with LockLostError", async () => {
    const dir = fresh();
    const old = await RankLock.acquire(dir, { incarnation: 1, checkMs: 0 });
    const log = await openNfsLog(dir, "x", { lock: old });
    const next = await RankLock.acquire(dir, { incarnation: 2 });
    log.append(Buffer.from("late"));
    await expect(log.sync()).rejects.toBeInstanceOf(LockLostError);
    await next.release();
  });
});
