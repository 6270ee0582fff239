/**
 * Checkpoints on `volatile memory of processes` (diskless checkpointing): a
 * CheckpointStore kept in the memory of f other processes.
 *
 * It is a thin layer over one replicated log (replicated.ts) named
 * CHECKPOINT_LOG: each checkpoint is one record of that log, so the log's
 * machinery does all the replication work and its guarantees carry over:
 *  - `write` appends the record and resolves once all f replicas of this rank
 *    (ranks r+1..r+f) acknowledged it (the log's `sync`): only then is the
 *    checkpoint durable, and only then may the protocol truncate its logs;
 *  - a recovering incarnation opens the log, which fetches the records from
 *    the replicas and takes them from a copy that is *complete*; the newest
 *    record is the checkpoint to restore;
 *  - a replica that restarts has lost its copy: the owner refills it on the
 *    host's peer-restart notice (every live checkpoint is re-sent), and a
 *    recovering owner re-replicates what it fetched, so f copies exist again;
 *  - more than f concurrent failures (the owner and every replica restarted
 *    since last holding a complete copy) reject the open with StateLostError
 *    (the host reports `unrecoverable`, exit 3): never an older or empty state.
 * `gc(k)` truncates the log below checkpoint k's record, on the replicas too.
 *
 * Incremental writes send the full body too (the record is the whole
 * checkpoint): a delta against an older record would tie its lifetime to the
 * truncation point of the log. `stats.bytesWritten` counts body bytes once
 * (each is sent f times).
 *
 * Record: u32 FORMAT, f64 index, u32 app length, app bytes, protocol bytes.
 */
import type { Checkpoint, CheckpointStore, LogStore, StorageMedium } from "../spi.js";
import { CorruptCheckpointError } from "./errors.js";

/** The replicated log's name: protocol logs use other names (events, sends, reads, ...). */
export const CHECKPOINT_LOG = "checkpoints";
const FORMAT = 0xc4e0_0001;
const HEADER = 16;

function encode(c: Checkpoint): Uint8Array {
  const out = new Uint8Array(HEADER + c.app.byteLength + c.protocol.byteLength);
  const v = new DataView(out.buffer);
  v.setUint32(0, FORMAT);
  v.setFloat64(4, c.index);
  v.setUint32(12, c.app.byteLength);
  out.set(c.app, HEADER);
  out.set(c.protocol, HEADER + c.app.byteLength);
  return out;
}

function decode(data: Uint8Array, lsn: number): Checkpoint {
  const bad = (why: string): never => {
    throw new CorruptCheckpointError(`replicated:${CHECKPOINT_LOG}`, lsn, why);
  };
  if (data.byteLength < HEADER) bad("record shorter than its header");
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (v.getUint32(0) !== FORMAT) bad("unknown record format");
  const index = v.getFloat64(4);
  const appLength = v.getUint32(12);
  if (!Number.isSafeInteger(index) || HEADER + appLength > data.byteLength) bad("bad header");
  return { index, app: data.subarray(HEADER, HEADER + appLength), protocol: data.subarray(HEADER + appLength) };
}

export class ReplicatedCheckpointStore implements CheckpointStore {
  readonly medium: StorageMedium = "volatile-memory-of-processes";
  /** Live checkpoints by index, with the lsn of their record (what gc truncates below). */
  private readonly byIndex = new Map<number, { lsn: number; ckpt: Checkpoint }>();
  private readonly st = { writes: 0, bytesWritten: 0 };
  private queue: Promise<unknown> = Promise.resolve();
  /** Checkpoints the replicas gave back when this store was opened (0 on a first incarnation). */
  private found = 0;

  private constructor(private readonly log: LogStore) {}

  /** Wraps the replicated log CHECKPOINT_LOG (already recovered from the replicas if this is a restart). */
  static async open(log: LogStore): Promise<ReplicatedCheckpointStore> {
    const store = new ReplicatedCheckpointStore(log);
    for (const rec of await log.readAll()) {
      const ckpt = decode(rec.data, rec.lsn);
      store.byIndex.set(ckpt.index, { lsn: rec.lsn, ckpt });
    }
    store.found = store.byIndex.size;
    return store;
  }

  /** Checkpoints the replicas held for this rank when the store was opened (what a restart could restore from). */
  get recovered(): number {
    return this.found;
  }

  get stats(): Readonly<{ writes: number; bytesWritten: number }> {
    return this.st;
  }

  write(ckpt: Checkpoint, _opts: { readonly incremental: boolean }): Promise<void> {
    return this.serial(async () => {
      const data = encode(ckpt);
      const lsn = this.log.append(data);
      await this.log.sync();
      // Visible to latest() only once f replicas hold it: a checkpoint is never restored before it is durable.
      this.byIndex.set(ckpt.index, { lsn, ckpt: decode(data, lsn) });
      this.st.writes++;
      this.st.bytesWritten += data.byteLength;
    });
  }

  latest(): Promise<Checkpoint | null> {
    let best: Checkpoint | null = null;
    for (const { ckpt } of this.byIndex.values()) if (best === null || ckpt.index > best.index) best = ckpt;
    return Promise.resolve(best);
  }

  load(index: number): Promise<Checkpoint | null> {
    return Promise.resolve(this.byIndex.get(index)?.ckpt ?? null);
  }

  list(): Promise<number[]> {
    return Promise.resolve([...this.byIndex.keys()].sort((a, b) => a - b));
  }

  gc(keepFrom: number): Promise<void> {
    return this.serial(async () => {
      let cut = this.log.nextLsn;
      for (const [i, { lsn }] of this.byIndex) if (i >= keepFrom) cut = Math.min(cut, lsn);
      for (const [i, { lsn }] of [...this.byIndex]) if (lsn < cut) this.byIndex.delete(i);
      await this.log.truncatePrefix(cut);
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => {});
    return p;
  }
}
