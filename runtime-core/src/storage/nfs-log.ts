/**
 * The `nfs-disk` log: the disk-log format in a directory shared between hosts
 * (`--storage-dir`), one subdirectory per rank, guarded by the rank lock so
 * two live incarnations of a rank never write the same files.
 *
 * NFS gives close-to-open consistency and honours fdatasync (COMMIT), which is
 * all the disk log relies on: one writer per file, and a reader (the restarted
 * incarnation, maybe on another host) that opens after the writer died.
 */
import { join } from "node:path";
import { openDiskLog, type DiskLog, type DiskLogOptions } from "./disk-log.js";
import type { RankLock } from "./nfs-lock.js";

/** `<shared>/rank-<r>`: everything of one rank, under one lock. */
export function rankDir(root: string, rank: number): string {
  return join(root, `rank-${rank}`);
}

/** Log and checkpoint names become directory names: keep them portable. */
export function checkName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) {
    throw new RangeError(`storage name ${JSON.stringify(name)} must match [A-Za-z0-9][A-Za-z0-9._-]*`);
  }
  return name;
}

export interface NfsLogOptions extends Omit<DiskLogOptions, "medium" | "beforeFlush"> {
  /** The rank lock, already acquired (RankLock.acquire on the rank directory). */
  readonly lock: RankLock;
}

/** Opens log `name` of the rank whose directory `dir` the caller has locked. */
export async function openNfsLog(dir: string, name: string, opts: NfsLogOptions): Promise<DiskLog> {
  // Check before reading: a stale incarnation must not even repair a tail its successor owns.
  await opts.lock.verify(true);
  return openDiskLog(join(dir, `log-${checkName(name)}`), {
    ...opts,
    medium: "nfs-disk",
    beforeFlush: () => opts.lock.verify(),
  });
}
