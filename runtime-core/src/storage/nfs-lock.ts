/**
 * The rank lock of a shared (NFS) storage directory.
 *
 * Rule: at most one live incarnation of a rank writes `<shared>/rank-<r>/`.
 * The lock file `rank-<r>/lock` holds JSON {pid, host, incarnation, token}.
 * A contender takes the lock when
 *   1. no lock file exists (created with link(2), atomic and EEXIST-safe on NFS), or
 *   2. the holder's incarnation is older than the contender's: the launcher
 *      only starts incarnation n+1 after incarnation n died, so an older
 *      holder is dead (or a zombie that must be fenced off), or
 *   3. the holder is on this host and its pid is no longer alive.
 * Anything else (same or newer incarnation alive, or on another host where we
 * cannot check its pid) is refused with LockHeldError.
 *
 * Fencing: a holder re-reads the lock before a flush (at most every
 * `checkMs`), and stops with LockLostError when a successor's token is there.
 */
import { randomBytes } from "node:crypto";
import { link, rename, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { LockHeldError, LockLostError, StorageError, ioError, type LockHolder, type WarningHandler } from "./errors.js";
import { fsyncDir, isErrno, mkdirs, readTextIfExists, tempPath, unlinkIfExists } from "./fs-util.js";

export const LOCK_FILE = "lock";

export interface RankLockOptions {
  readonly incarnation: number;
  readonly onWarning?: WarningHandler;
  /** How often a flush re-reads the lock (ms). 0 checks before every flush. */
  readonly checkMs?: number;
  /** Overrides for tests: who we are. */
  readonly pid?: number;
  readonly host?: string;
}

export class RankLock {
  private lastCheck = Date.now();
  private released = false;

  private constructor(
    readonly file: string,
    readonly holder: LockHolder,
    private readonly checkMs: number,
  ) {}

  /** Takes the lock of rank directory `dir` or throws LockHeldError. */
  static async acquire(dir: string, opts: RankLockOptions): Promise<RankLock> {
    try {
      return await RankLock.take(dir, opts);
    } catch (e) {
      throw ioError(e, "take the storage lock in", dir);
    }
  }

  private static async take(dir: string, opts: RankLockOptions): Promise<RankLock> {
    await mkdirs(dir);
    const file = join(dir, LOCK_FILE);
    const me: LockHolder = {
      pid: opts.pid ?? process.pid,
      host: opts.host ?? hostname(),
      incarnation: opts.incarnation,
      token: randomBytes(12).toString("hex"),
      since: new Date().toISOString(),
    };
    const tmp = tempPath(file);
    await writeFile(tmp, JSON.stringify(me), { flush: true });
    try {
      try {
        await link(tmp, file);
      } catch (e) {
        if (!isErrno(e, "EEXIST")) throw e;
        const holder = await readHolder(file);
        const why = holder === null ? "unreadable lock" : stealReason(holder, me);
        if (holder !== null && why === null) {
          throw new LockHeldError(file, holder, holder.incarnation > me.incarnation ? `a newer incarnation than ours (${me.incarnation}) runs` : "the holder is alive");
        }
        // Replace atomically; if two contenders race, the re-read below lets only the winner continue.
        await rename(tmp, file);
        opts.onWarning?.({ kind: "lock-stolen", file, message: `took over storage lock ${file}: ${why}` });
      }
      await fsyncDir(dir);
      const now = await readHolder(file);
      if (now === null || now.token !== me.token) {
        throw new LockHeldError(file, now ?? me, "another contender took the lock at the same time");
      }
    } finally {
      await unlinkIfExists(tmp);
    }
    return new RankLock(file, me, opts.checkMs ?? 500);
  }

  /** Throws LockLostError if a successor took the lock. Rate-limited to one read per checkMs. */
  async verify(force = false): Promise<void> {
    if (this.released) throw new StorageError(`storage lock ${this.file} was released`, this.file);
    const now = Date.now();
    if (!force && now - this.lastCheck < this.checkMs) return;
    this.lastCheck = now;
    const holder = await readHolder(this.file);
    if (holder === null || holder.token !== this.holder.token) throw new LockLostError(this.file, holder);
  }

  /** Removes the lock if it is still ours. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const holder = await readHolder(this.file);
    if (holder?.token === this.holder.token) await unlinkIfExists(this.file);
  }
}

/** Why `me` may take a lock `holder` holds, or null if it may not. */
function stealReason(holder: LockHolder, me: LockHolder): string | null {
  if (holder.incarnation < me.incarnation) return `holder incarnation ${holder.incarnation} is older than ours (${me.incarnation})`;
  if (holder.host === me.host && !pidAlive(holder.pid)) return `holder pid ${holder.pid} on this host is dead`;
  return null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return !isErrno(e, "ESRCH");
  }
}

async function readHolder(file: string): Promise<LockHolder | null> {
  const text = await readTextIfExists(file);
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid === "number" && typeof v.host === "string" && typeof v.incarnation === "number" && typeof v.token === "string") {
      return { pid: v.pid, host: v.host, incarnation: v.incarnation, token: v.token, since: String(v.since ?? "") };
    }
  } catch {
    // fall through: the lock file is written whole via link/rename, so this is outside interference
  }
  return null;
}
