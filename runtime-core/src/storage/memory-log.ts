/**
 * In-memory LogStore.
 *
 * As `volatile-memory-of-self` it is simply dropped with the process. The
 * simulation also uses it to stand in for stable media: the records live in a
 * `MemoryLogState` the simulator keeps across a simulated crash, and
 * `reopenAfterCrash` drops whatever was appended but not synced, exactly as a
 * disk would lose its unsynced tail.
 *
 * Records are packed, not kept as objects: a log that is never truncated
 * (fig3a's optimistic log has no checkpoints) otherwise retains one
 * `{lsn, data}` object and one ArrayBuffer per append, and tracing them was
 * the main per-message cost of that protocol (docs/performance.md). Bytes go
 * into append-only chunks; a record is an (chunk, offset, length) triple in
 * one Int32Array. A chunk's bytes are never rewritten (truncation drops whole
 * chunks, a crash only forgets the tail), so `readAll` can hand out views.
 */
import type { LogRecord, LogStats, LogStore, StorageMedium } from "../spi.js";

const CHUNK = 64 * 1024;
/** Index words per record: absolute chunk number, offset in it, length. */
const STRIDE = 3;

/** The part of a memory log that outlives a simulated crash of its owner. */
export class MemoryLogState {
  /** Chunks still holding a live record; `chunks[0]` is absolute chunk `chunkBase`. */
  chunks: Uint8Array[] = [];
  chunkBase = 0;
  /** Write position in the last chunk. */
  fill = CHUNK;
  ix = new Int32Array(STRIDE * 64);
  /** Index entry of the first live record (lsn `firstLsn`). */
  head = 0;
  /** Live records. */
  count = 0;
  /** Live records with position < synced are durable (survive reopenAfterCrash). */
  synced = 0;
  /** Truncation point: records below it are gone. Live record i has lsn firstLsn + i. */
  firstLsn = 0;
  nextLsn = 0;
  /** Payload bytes of the live records. */
  bytes = 0;

  /** Live record i (0-based) as a view; never rewritten, so callers may keep it. */
  at(i: number): LogRecord {
    const e = STRIDE * (this.head + i);
    const ix = this.ix;
    const c = this.chunks[ix[e]! - this.chunkBase]!;
    return { lsn: this.firstLsn + i, data: c.subarray(ix[e + 1]!, ix[e + 1]! + ix[e + 2]!) };
  }

  /** Every live record, for inspection (the simulator's storage accounting). */
  get records(): LogRecord[] {
    const out = new Array<LogRecord>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.at(i);
    return out;
  }

  push(data: Uint8Array): void {
    const n = data.byteLength;
    let last = this.chunks.length - 1;
    if (last < 0 || this.fill + n > this.chunks[last]!.length) {
      this.chunks.push(new Uint8Array(Math.max(CHUNK, n)));
      this.fill = 0;
      last++;
    }
    if (STRIDE * (this.head + this.count + 1) > this.ix.length) this.growIndex();
    // Copy because the caller may reuse its buffer after append returns.
    this.chunks[last]!.set(data, this.fill);
    const e = STRIDE * (this.head + this.count);
    this.ix[e] = this.chunkBase + last;
    this.ix[e + 1] = this.fill;
    this.ix[e + 2] = n;
    this.fill += n;
    this.count++;
    this.bytes += n;
  }

  /** Drops the first `cut` live records and every chunk only they used. */
  dropPrefix(cut: number): void {
    for (let i = 0; i < cut; i++) this.bytes -= this.ix[STRIDE * (this.head + i) + 2]!;
    this.head += cut;
    this.count -= cut;
    this.synced = Math.max(0, this.synced - cut);
    // Keep the chunk being written even when empty of live records.
    const keepFrom = this.count > 0 ? this.ix[STRIDE * this.head]! : this.chunkBase + this.chunks.length - 1;
    const drop = keepFrom - this.chunkBase;
    if (drop > 0) {
      this.chunks.splice(0, drop);
      this.chunkBase = keepFrom;
    }
    if (this.count === 0) this.head = 0;
  }

  /** Forgets live records from position `keep` on (their chunk bytes stay: views of them may be held). */
  dropTail(keep: number): void {
    for (let i = keep; i < this.count; i++) this.bytes -= this.ix[STRIDE * (this.head + i) + 2]!;
    this.count = keep;
  }

  private growIndex(): void {
    const need = STRIDE * (this.count + 1);
    // Compact in place when half the index is dead prefix, else double.
    if (need * 2 <= this.ix.length) {
      this.ix.copyWithin(0, STRIDE * this.head, STRIDE * (this.head + this.count));
      this.head = 0;
      return;
    }
    const ix = new Int32Array(need * 2);
    ix.set(this.ix.subarray(STRIDE * this.head, STRIDE * (this.head + this.count)));
    this.ix = ix;
    this.head = 0;
  }
}

export function newMemoryLogState(): MemoryLogState {
  return new MemoryLogState();
}

export class MemoryLog implements LogStore {
  private readonly s: MemoryLogState;
  private readonly st: LogStats = { records: 0, bytes: 0, syncs: 0 };
  private closed = false;

  constructor(
    readonly medium: StorageMedium = "volatile-memory-of-self",
    state: MemoryLogState = newMemoryLogState(),
  ) {
    this.s = state;
  }

  /** A new handle on `state` as it is after a crash: unsynced records are lost. */
  static reopenAfterCrash(medium: StorageMedium, state: MemoryLogState): MemoryLog {
    state.dropTail(state.synced);
    state.nextLsn = state.count > 0 ? state.firstLsn + state.count : Math.max(state.firstLsn, 0);
    return new MemoryLog(medium, state);
  }

  get nextLsn(): number {
    return this.s.nextLsn;
  }

  get stats(): Readonly<LogStats> {
    return this.st;
  }

  append(data: Uint8Array): number {
    this.check();
    const lsn = this.s.nextLsn++;
    this.s.push(data);
    this.st.records++;
    this.st.bytes += data.length;
    return lsn;
  }

  sync(): Promise<void> {
    this.check();
    if (this.s.synced < this.s.count) {
      this.s.synced = this.s.count;
      this.st.syncs++;
    }
    return Promise.resolve();
  }

  readAll(): Promise<LogRecord[]> {
    return Promise.resolve(this.s.records);
  }

  truncatePrefix(lsn: number): Promise<void> {
    this.check();
    if (lsn > this.s.nextLsn) return Promise.reject(new RangeError(`truncatePrefix(${lsn}) beyond nextLsn ${this.s.nextLsn}`));
    if (lsn <= this.s.firstLsn) return Promise.resolve();
    // Records are in lsn order with no gaps, so the cut is an index.
    this.s.dropPrefix(Math.min(lsn - this.s.firstLsn, this.s.count));
    this.s.firstLsn = lsn;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  private check(): void {
    if (this.closed) throw new Error("memory log is closed");
  }
}
