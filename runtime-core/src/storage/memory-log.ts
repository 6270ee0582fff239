/**
 * In-memory LogStore.
 *
 * As `volatile-memory-of-self` it is simply dropped with the process. The
 * simulation also uses it to stand in for stable media: the records live in a
 * `MemoryLogState` the simulator keeps across a simulated crash, and
 * `reopenAfterCrash` drops whatever was appended but not synced, exactly as a
 * disk would lose its unsynced tail.
 */
import type { LogRecord, LogStats, LogStore, StorageMedium } from "../spi.js";

/** The part of a memory log that outlives a simulated crash of its owner. */
export interface MemoryLogState {
  records: LogRecord[];
  /** Records with index < synced are durable (survive reopenAfterCrash). */
  synced: number;
  /** Truncation point: records below it are gone. */
  firstLsn: number;
  nextLsn: number;
}

export function newMemoryLogState(): MemoryLogState {
  return { records: [], synced: 0, firstLsn: 0, nextLsn: 0 };
}

/** Copy because the caller may reuse its buffer after append returns. */
function copy(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
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
    state.records.length = state.synced;
    const last = state.records[state.records.length - 1];
    state.nextLsn = last ? last.lsn + 1 : Math.max(state.firstLsn, 0);
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
    this.s.records.push({ lsn, data: copy(data) });
    this.st.records++;
    this.st.bytes += data.length;
    return lsn;
  }

  sync(): Promise<void> {
    this.check();
    if (this.s.synced < this.s.records.length) {
      this.s.synced = this.s.records.length;
      this.st.syncs++;
    }
    return Promise.resolve();
  }

  readAll(): Promise<LogRecord[]> {
    return Promise.resolve(this.s.records.slice());
  }

  truncatePrefix(lsn: number): Promise<void> {
    this.check();
    if (lsn > this.s.nextLsn) return Promise.reject(new RangeError(`truncatePrefix(${lsn}) beyond nextLsn ${this.s.nextLsn}`));
    if (lsn <= this.s.firstLsn) return Promise.resolve();
    // Records are in lsn order with no gaps, so the cut is an index.
    const cut = Math.min(lsn - this.s.firstLsn, this.s.records.length);
    this.s.records.splice(0, cut);
    this.s.synced = Math.max(0, this.s.synced - cut);
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
