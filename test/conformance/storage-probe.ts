/**
 * A storage adapter for one incarnation of one rank:
 *  - fencing: once the incarnation is dead, every operation stalls forever,
 *    so leftover promise chains of a crashed process cannot write to the
 *    stable media its successor reads (a SIGKILLed process writes nothing);
 *  - crash points: calls `point("before-flush")` etc. around the operations
 *    the campaign crashes at; the callback may crash the rank on the spot;
 *  - sizing: keeps the handles it opened so the harness can measure volatile
 *    logs too (stable media are measured from the shared map).
 */
import type { Checkpoint, CheckpointStore, LogStore, StorageMedium, StorageProvider } from "../../runtime-core/src/spi.js";
import type { CrashPoint } from "./schedule.js";

const never = <T>(): Promise<T> => new Promise<T>(() => {});

export interface StorageProbe {
  readonly provider: StorageProvider;
  /** Logs this incarnation opened (for sizing the volatile ones). */
  readonly logs: LogStore[];
}

export function probeStorage(inner: StorageProvider, dead: () => boolean, point: (p: CrashPoint) => void): StorageProbe {
  const logs: LogStore[] = [];
  const wrapLog = (l: LogStore): LogStore => {
    let unsynced = false;
    return {
      get medium() {
        return l.medium;
      },
      append(d) {
        if (dead()) return l.nextLsn;
        unsynced = true;
        return l.append(d);
      },
      async sync() {
        if (dead()) return never();
        // Only a sync with something to flush is a "flush" point worth crashing at.
        if (unsynced) point("before-flush");
        if (dead()) return never();
        const had = unsynced;
        unsynced = false;
        await l.sync();
        if (dead()) return never();
        if (had) point("after-flush");
        if (dead()) return never();
      },
      async readAll() {
        if (dead()) return never();
        const r = await l.readAll();
        return dead() ? never() : r;
      },
      async truncatePrefix(lsn) {
        if (dead()) return never();
        await l.truncatePrefix(lsn);
        if (dead()) return never();
      },
      get nextLsn() {
        return l.nextLsn;
      },
      get stats() {
        return l.stats;
      },
      close: () => l.close(),
    };
  };
  const wrapCk = (c: CheckpointStore): CheckpointStore => ({
    get medium() {
      return c.medium;
    },
    async write(ck: Checkpoint, o) {
      if (dead()) return never();
      point("before-checkpoint");
      if (dead()) return never();
      await c.write(ck, o);
      if (dead()) return never();
      point("after-checkpoint");
      if (dead()) return never();
    },
    async latest() {
      const r = await c.latest();
      return dead() ? never() : r;
    },
    async load(i) {
      const r = await c.load(i);
      return dead() ? never() : r;
    },
    async list() {
      const r = await c.list();
      return dead() ? never() : r;
    },
    async gc(k) {
      if (dead()) return never();
      await c.gc(k);
    },
    get stats() {
      return c.stats;
    },
  });
  const provider: StorageProvider = {
    openLog: async (m: StorageMedium, n: string) => {
      const l = await inner.openLog(m, n);
      if (dead()) return never();
      if (!logs.includes(l)) logs.push(l); // the provider hands the same handle to every open of a name
      return wrapLog(l);
    },
    openCheckpoints: async (m: StorageMedium) => {
      const c = await inner.openCheckpoints(m);
      return dead() ? never() : wrapCk(c);
    },
  };
  return { provider, logs };
}
