/**
 * Storage seen by the run trace: a log's sync is a `log-flush`, a checkpoint
 * store's write resolving is a `checkpoint-commit`. Only wrapped when the
 * run is traced.
 */
import type { Checkpoint, CheckpointStore, LogStore, StorageMedium, StorageProvider } from "../spi.js";
import type { TraceEmit } from "./records.js";

function traceLog(l: LogStore, name: string, emit: TraceEmit): LogStore {
  return {
    get medium() {
      return l.medium;
    },
    append: (d) => l.append(d),
    sync: async () => {
      const lsn = l.nextLsn;
      const t0 = performance.now();
      await l.sync();
      emit({ ev: "log-flush", log: name, lsn, ms: Math.round((performance.now() - t0) * 1000) / 1000 });
    },
    readAll: () => l.readAll(),
    truncatePrefix: (lsn) => l.truncatePrefix(lsn),
    get nextLsn() {
      return l.nextLsn;
    },
    get stats() {
      return l.stats;
    },
    close: () => l.close(),
  };
}

function traceCheckpoints(c: CheckpointStore, emit: TraceEmit): CheckpointStore {
  return {
    get medium() {
      return c.medium;
    },
    write: async (ck: Checkpoint, o) => {
      await c.write(ck, o);
      emit({ ev: "checkpoint-commit", index: ck.index, bytes: ck.app.byteLength + ck.protocol.byteLength });
    },
    latest: () => c.latest(),
    load: (i) => c.load(i),
    list: () => c.list(),
    gc: (k) => c.gc(k),
    get stats() {
      return c.stats;
    },
  };
}

export function traceStorage(p: StorageProvider, emit: TraceEmit): StorageProvider {
  return {
    openLog: async (m: StorageMedium, n: string) => traceLog(await p.openLog(m, n), n, emit),
    openCheckpoints: async (m: StorageMedium) => traceCheckpoints(await p.openCheckpoints(m), emit),
  };
}
