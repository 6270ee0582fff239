/**
 * Storage fencing for simulated kills (runSimJob).
 *
 * A simulated SIGKILL cannot stop the dead incarnation's JavaScript: its
 * pending continuations (a pump between deliveries, a flush, a checkpoint)
 * keep running until they block. With memory storage every log append and
 * sync completes in the same instant, so without a fence a kill "after
 * delivery k" would still log the determinant of delivery k+1 (or write a
 * checkpoint) where the next incarnation reads it: a crash at a later point
 * than the one advertised. Once `dead()` is true, the wrapped stores write
 * nothing more and their pending and new operations never settle, as for a
 * process that no longer exists. Reads of the next incarnation go through
 * its own, unfenced provider.
 *
 * The replicated log and checkpoint store (`volatile-memory-of-processes`)
 * are handed over as they are: their records reach the replicas only over the
 * dead rank's transport, which the simulated crash already stopped, so they
 * are fenced by the network.
 */
import type { Checkpoint, CheckpointStore, LogStore, StorageMedium, StorageProvider } from "../spi.js";

/** What a dead process's awaits resolve to: nothing, ever. */
const NEVER: Promise<never> = new Promise<never>(() => {});

/** `op`, unless the process is (or dies while it runs) dead: then it never settles. */
async function live<T>(dead: () => boolean, op: () => Promise<T>): Promise<T> {
  if (dead()) return NEVER;
  const r = await op();
  return dead() ? NEVER : r;
}

function fenceLog(l: LogStore, dead: () => boolean): LogStore {
  return {
    get medium() {
      return l.medium;
    },
    // A dead process's append never reaches the log; the lsn it gets back is never used durably.
    append: (d) => (dead() ? l.nextLsn : l.append(d)),
    sync: () => live(dead, () => l.sync()),
    readAll: () => live(dead, () => l.readAll()),
    truncatePrefix: (lsn) => live(dead, () => l.truncatePrefix(lsn)),
    get nextLsn() {
      return l.nextLsn;
    },
    get stats() {
      return l.stats;
    },
    close: () => l.close(),
  };
}

function fenceCheckpoints(c: CheckpointStore, dead: () => boolean): CheckpointStore {
  return {
    get medium() {
      return c.medium;
    },
    write: (ck: Checkpoint, o) => live(dead, () => c.write(ck, o)),
    latest: () => live(dead, () => c.latest()),
    load: (i) => live(dead, () => c.load(i)),
    list: () => live(dead, () => c.list()),
    gc: (k) => live(dead, () => c.gc(k)),
    get stats() {
      return c.stats;
    },
  };
}

/** `p` for one incarnation; `dead()` turns true when that incarnation is killed. */
export function fenceStorage(p: StorageProvider, dead: () => boolean): StorageProvider {
  return {
    openLog: (m: StorageMedium, n: string) =>
      live(dead, async () => {
        const log = await p.openLog(m, n);
        return m === "volatile-memory-of-processes" ? log : fenceLog(log, dead);
      }),
    openCheckpoints: (m: StorageMedium) =>
      live(dead, async () => {
        const c = await p.openCheckpoints(m);
        return m === "volatile-memory-of-processes" ? c : fenceCheckpoints(c, dead);
      }),
  };
}
