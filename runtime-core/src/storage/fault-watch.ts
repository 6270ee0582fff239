/**
 * Lets the runtime see a disk store's errors before the protocol does.
 *
 * A protocol may turn a storage error into text (a delivery pump ends with
 * host.unrecoverable(`delivery pump: ${e}`)), which loses the file, the
 * operation and the errno. The disk provider wraps its stores with these
 * when given `onFault`, so the rank's runtime can still report "disk full on
 * FILE" as the environment fault it is. Only disk-backed stores are wrapped:
 * their fsyncs dwarf one extra promise, and memory stores (the simulator's)
 * never fail this way.
 */
import type { Checkpoint, CheckpointStore, LogStore } from "../spi.js";

export type FaultListener = (error: unknown) => void;

function watched<T>(p: Promise<T>, onFault: FaultListener): Promise<T> {
  return p.catch((e: unknown) => {
    onFault(e);
    throw e;
  });
}

export function watchLog(l: LogStore, onFault: FaultListener): LogStore {
  return {
    get medium() {
      return l.medium;
    },
    append(d) {
      try {
        return l.append(d);
      } catch (e) {
        onFault(e);
        throw e;
      }
    },
    sync: () => watched(l.sync(), onFault),
    readAll: () => watched(l.readAll(), onFault),
    truncatePrefix: (lsn) => watched(l.truncatePrefix(lsn), onFault),
    get nextLsn() {
      return l.nextLsn;
    },
    get stats() {
      return l.stats;
    },
    close: () => watched(l.close(), onFault),
  };
}

export function watchCheckpoints(c: CheckpointStore, onFault: FaultListener): CheckpointStore {
  return {
    get medium() {
      return c.medium;
    },
    write: (ck: Checkpoint, o) => watched(c.write(ck, o), onFault),
    latest: () => watched(c.latest(), onFault),
    load: (i) => watched(c.load(i), onFault),
    list: () => watched(c.list(), onFault),
    gc: (k) => watched(c.gc(k), onFault),
    get stats() {
      return c.stats;
    },
  };
}
