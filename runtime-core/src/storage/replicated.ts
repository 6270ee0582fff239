/**
 * The `volatile-memory-of-processes` medium: a LogStore whose records live in
 * the memory of f other processes.
 *
 * Origin rank r replicates each log to ranks r+1..r+f (mod size) with Control
 * frames whose tags are at or above RUNTIME_TAG_BASE (listed in
 * `ReplicationTag`), so the runtime host routes them here and they never reach
 * the protocol. `sync()` resolves once every replica has acknowledged every
 * record appended before the call (group commit: one Append frame per replica
 * carries all records appended since the last one).
 *
 * Every process runs one ReplicationService: the origin side of the logs it
 * opens, and the replica side for its f predecessors. Replicas keep records
 * keyed by (origin rank, log name), across the origin's incarnations.
 *
 * Recovery: a recovering incarnation (incarnation > 0) fetches its records
 * from its f replicas when it opens a log, waits for all f replies and merges
 * them (union, deduplicated by lsn), then continues numbering after the
 * highest lsn so lsns are never reused. With at most f concurrent failures
 * (the origin counting as one), at least one replica has held every synced
 * record throughout. A replica that is down delays recovery until it is back
 * (its reply is then whatever it holds). Fetched records are re-sent to the
 * replicas, which restores the replication degree.
 *
 * When a replica restarts (the host reports it with `onPeerRestart`), the
 * origin resends every live record to it and its acknowledgements restart
 * from scratch.
 *
 * Beyond f: a replica's copy of a log is *complete* when it can vouch for
 * every live record: it has run since the job started (incarnation 0, so it
 * received every frame the origin ever sent it), or it received a full
 * refill (after its own restart, after the origin recovered, or the marker
 * a fresh log sends when opened). A restarted replica that only saw appends
 * since its restart is incomplete: synced records may have lived only in its
 * previous incarnation. FetchReply carries the flag; a fetch in which no
 * reply is complete rejects with StateLostError (the host reports it as
 * unrecoverable) instead of recovering a history with holes.
 * Limitation: a log an origin opens for the first time in a later
 * incarnation (never opened before) is refused too when every replica has
 * restarted meanwhile, since nothing tells "never written" from "lost".
 */
import { StateLostError, type LostReplica } from "./errors.js";
import { FrameKind, RUNTIME_TAG_BASE, type Frame, type InboundFrame, type LogRecord, type LogStats, type LogStore, type StorageMedium } from "../spi.js";

/** Every runtime control tag this module uses (one place, all >= RUNTIME_TAG_BASE). */
export const ReplicationTag = {
  /** origin -> replica: records to hold (a refill, as parts `part` of `parts`, or `parts` = 0). */
  Append: RUNTIME_TAG_BASE + 0x10,
  /** replica -> origin: "I hold every record below `upTo`". */
  Ack: RUNTIME_TAG_BASE + 0x11,
  /** origin -> replica: drop records below an lsn. */
  Truncate: RUNTIME_TAG_BASE + 0x12,
  /** recovering origin -> replica: send me what you hold. */
  Fetch: RUNTIME_TAG_BASE + 0x13,
  /** replica -> recovering origin: the records it holds, and whether its copy is complete. */
  FetchReply: RUNTIME_TAG_BASE + 0x14,
} as const;
export type ReplicationTag = (typeof ReplicationTag)[keyof typeof ReplicationTag];

/** Record bytes per Append frame (well under the TCP transport's default 64 MiB frame limit). */
const APPEND_BATCH_BYTES = 4 * 1024 * 1024;
const TAGS = new Set<number>(Object.values(ReplicationTag));
const EMPTY = new Uint8Array(0);

/** The runtime control channel: how the replicated log reaches its peers. The runtime host routes runtime-tag frames to it. */
export interface ControlChannel {
  send(to: number, frame: Frame): void;
  onControl(handler: (frame: InboundFrame) => void): void;
  /** Optional: peers' restarts, so replicas can be refilled (else call `ReplicationService.onPeerRestart`). */
  onPeerIncarnation?(handler: (rank: number, incarnation: number) => void): void;
}

/** A ControlChannel over a transport, for a host that routes runtime frames and restarts by hand. */
export function createControlRouter(send: (to: number, frame: Frame) => void): ControlChannel & {
  deliver(frame: InboundFrame): void;
  peerIncarnation(rank: number, incarnation: number): void;
} {
  let onFrame: (frame: InboundFrame) => void = () => {};
  let onInc: (rank: number, incarnation: number) => void = () => {};
  return {
    send,
    onControl: (h) => (onFrame = h),
    onPeerIncarnation: (h) => (onInc = h),
    deliver: (frame) => onFrame(frame),
    peerIncarnation: (rank, inc) => onInc(rank, inc),
  };
}

export interface ReplicationServiceOptions {
  readonly channel: ControlChannel;
  readonly rank: number;
  readonly size: number;
  /** Replicas per record (1 <= f < size). */
  readonly f: number;
  /** This process's incarnation; > 0 means logs are recovered from the replicas on open. */
  readonly incarnation: number;
}

// ---------------------------------------------------------------- wire encoding

class Writer {
  private buf = new Uint8Array(64);
  private view = new DataView(this.buf.buffer);
  private off = 0;
  private room(n: number): void {
    if (this.off + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.off + n));
    next.set(this.buf.subarray(0, this.off));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u32(v: number): this {
    this.room(4);
    this.view.setUint32(this.off, v);
    this.off += 4;
    return this;
  }
  /** lsns are integers below 2^53: exact in a float64. */
  lsn(v: number): this {
    this.room(8);
    this.view.setFloat64(this.off, v);
    this.off += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.u32(b.byteLength);
    this.room(b.byteLength);
    this.buf.set(b, this.off);
    this.off += b.byteLength;
    return this;
  }
  str(s: string): this {
    return this.bytes(new TextEncoder().encode(s));
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.off);
  }
}

class Reader {
  private readonly view: DataView;
  private off = 0;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  u32(): number {
    const v = this.view.getUint32(this.off);
    this.off += 4;
    return v;
  }
  lsn(): number {
    const v = this.view.getFloat64(this.off);
    this.off += 8;
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`bad lsn ${v}`);
    return v;
  }
  bytes(): Uint8Array {
    const n = this.u32();
    if (this.off + n > this.buf.byteLength) throw new RangeError("truncated replication frame");
    const b = this.buf.slice(this.off, this.off + n);
    this.off += n;
    return b;
  }
  str(): string {
    return new TextDecoder().decode(this.bytes());
  }
}

function writeRecords(w: Writer, recs: readonly LogRecord[]): void {
  w.u32(recs.length);
  for (const r of recs) w.lsn(r.lsn).bytes(r.data);
}

function readRecords(r: Reader): LogRecord[] {
  const n = r.u32();
  const out: LogRecord[] = [];
  for (let i = 0; i < n; i++) out.push({ lsn: r.lsn(), data: r.bytes() });
  return out;
}

// ---------------------------------------------------------------- replica side

/** What a replica holds for one (origin, log). */
class ReplicaCopy {
  low = 0;
  readonly records = new Map<number, Uint8Array>();
  /** First lsn >= low that is missing. */
  upTo = 0;
  /** Holds every live record of the origin's log (see the header: beyond f). */
  complete = false;
  /** Parts of the refill in progress received in order (a part seen out of order leaves it incomplete). */
  private refillNext = 0;

  /** Refill part `part` of `parts` arrived (after its records were added). */
  refillPart(part: number, parts: number): void {
    this.refillNext = part === 0 || part === this.refillNext ? part + 1 : 0;
    if (this.refillNext === parts) {
      this.complete = true;
      this.refillNext = 0;
    }
  }

  add(lsn: number, data: Uint8Array): void {
    if (lsn >= this.low) this.records.set(lsn, data);
    while (this.records.has(this.upTo)) this.upTo++;
  }

  truncate(lsn: number): void {
    if (lsn <= this.low) return;
    this.low = lsn;
    for (const k of this.records.keys()) if (k < lsn) this.records.delete(k);
    if (this.upTo < lsn) this.upTo = lsn;
    while (this.records.has(this.upTo)) this.upTo++;
  }

  sorted(): LogRecord[] {
    return [...this.records.entries()].sort((a, b) => a[0] - b[0]).map(([lsn, data]) => ({ lsn, data }));
  }
}

// ---------------------------------------------------------------- the service

/** A recovery fetch in progress. */
interface Fetch {
  readonly name: string;
  /** Replicas that have not answered yet. */
  readonly pending: Set<number>;
  readonly got: LogRecord[];
  low: number;
  /** Some reply came from a complete copy. */
  complete: boolean;
  /** Replies from incomplete copies. */
  readonly incomplete: LostReplica[];
  done(): void;
}

export class ReplicationService {
  readonly rank: number;
  readonly size: number;
  readonly f: number;
  readonly incarnation: number;
  /** The ranks holding this process's records. */
  readonly replicas: readonly number[];
  private readonly channel: ControlChannel;
  private readonly logs = new Map<string, ReplicatedLog>();
  /** origin rank -> log name -> copy. */
  private readonly held = new Map<number, Map<string, ReplicaCopy>>();
  private fetches = new Map<number, Fetch>();
  private nextFetchId = 1;

  constructor(opts: ReplicationServiceOptions) {
    const { rank, size, f } = opts;
    if (!(Number.isInteger(f) && f >= 1 && f < size)) throw new RangeError(`replication needs 1 <= f < size (f=${f}, size=${size})`);
    this.rank = rank;
    this.size = size;
    this.f = f;
    this.incarnation = opts.incarnation;
    this.channel = opts.channel;
    this.replicas = Array.from({ length: f }, (_, i) => (rank + 1 + i) % size);
    this.channel.onControl((fr) => this.onRuntimeFrame(fr));
    this.channel.onPeerIncarnation?.((r) => this.onPeerRestart(r));
  }

  /**
   * Open (or recover, when incarnation > 0) the log `name`. Usable as the
   * storage provider's `replicated` factory: `(name) => service.openLog(name)`.
   */
  async openLog(name: string): Promise<ReplicatedLog> {
    const existing = this.logs.get(name);
    if (existing !== undefined) return existing;
    const log = new ReplicatedLog(this, name);
    this.logs.set(name, log);
    if (this.incarnation > 0) {
      let got: { records: LogRecord[]; low: number };
      try {
        got = await this.fetch(name);
      } catch (e) {
        this.logs.delete(name);
        await log.close();
        throw e;
      }
      log.restore(got.records, got.low);
    } else {
      // A fresh log: the replicas hold all of it from here on (an empty refill).
      log.refillAll();
    }
    return log;
  }

  /** Route a runtime Control frame here (tags in `ReplicationTag`); other frames are ignored. Returns whether it was ours. */
  onRuntimeFrame(fr: InboundFrame): boolean {
    if (fr.kind !== FrameKind.Control || !TAGS.has(fr.tag)) return false;
    const r = new Reader(fr.payload);
    switch (fr.tag) {
      case ReplicationTag.Append: {
        const name = r.str();
        const low = r.lsn();
        const part = r.u32();
        const parts = r.u32();
        const copy = this.copyOf(fr.from, name);
        copy.truncate(low);
        for (const rec of readRecords(r)) copy.add(rec.lsn, rec.data);
        if (parts > 0) copy.refillPart(part, parts);
        this.send(fr.from, ReplicationTag.Ack, new Writer().str(name).lsn(copy.upTo).done());
        return true;
      }
      case ReplicationTag.Truncate: {
        const name = r.str();
        this.copyOf(fr.from, name).truncate(r.lsn());
        return true;
      }
      case ReplicationTag.Fetch: {
        const id = r.u32();
        const name = r.str();
        const copy = this.held.get(fr.from)?.get(name);
        // Incarnation 0 has received every frame the origin sent it (a missing copy means nothing was written).
        const complete = this.incarnation === 0 || copy?.complete === true;
        const w = new Writer().u32(id).lsn(copy?.low ?? 0).u32(complete ? 1 : 0);
        writeRecords(w, copy?.sorted() ?? []);
        this.send(fr.from, ReplicationTag.FetchReply, w.done());
        return true;
      }
      case ReplicationTag.Ack: {
        const name = r.str();
        this.logs.get(name)?.onAck(fr.from, r.lsn());
        return true;
      }
      case ReplicationTag.FetchReply: {
        const id = r.u32();
        const low = r.lsn();
        const complete = r.u32() === 1;
        const fetch = this.fetches.get(id);
        if (fetch === undefined || !fetch.pending.delete(fr.from)) return true;
        fetch.low = Math.max(fetch.low, low);
        if (complete) fetch.complete = true;
        else fetch.incomplete.push({ rank: fr.from, incarnation: fr.fromIncarnation });
        fetch.got.push(...readRecords(r));
        if (fetch.pending.size === 0) fetch.done();
        return true;
      }
    }
    return true;
  }

  /** `rank` restarted: if it holds our records, refill it, and ask again if a fetch still waits for it (its previous incarnation may have died before answering). */
  onPeerRestart(rank: number): void {
    if (!this.replicas.includes(rank)) return;
    for (const log of this.logs.values()) log.refill(rank);
    for (const [id, fetch] of this.fetches) {
      if (fetch.pending.has(rank)) this.send(rank, ReplicationTag.Fetch, new Writer().u32(id).str(fetch.name).done());
    }
  }

  /** What this process holds for others (records, bytes). */
  heldStats(): { origins: number; records: number; bytes: number } {
    let records = 0;
    let bytes = 0;
    for (const byName of this.held.values()) {
      for (const c of byName.values()) {
        records += c.records.size;
        for (const d of c.records.values()) bytes += d.byteLength;
      }
    }
    return { origins: this.held.size, records, bytes };
  }

  /** @internal */
  send(to: number, tag: ReplicationTag, payload: Uint8Array): void {
    this.channel.send(to, { kind: FrameKind.Control, tag, piggyback: EMPTY, payload });
  }

  private copyOf(origin: number, name: string): ReplicaCopy {
    let byName = this.held.get(origin);
    if (byName === undefined) this.held.set(origin, (byName = new Map()));
    let c = byName.get(name);
    if (c === undefined) byName.set(name, (c = new ReplicaCopy()));
    return c;
  }

  private fetch(name: string): Promise<{ records: LogRecord[]; low: number }> {
    const id = this.nextFetchId++;
    return new Promise((resolve, reject) => {
      const state: Fetch = {
        name,
        pending: new Set(this.replicas),
        got: [],
        low: 0,
        complete: false,
        incomplete: [],
        done: () => {
          this.fetches.delete(id);
          // Every replica restarted since it last held the whole log: records acknowledged by
          // the dead copies may be gone, and a union of the rest would replay a history with holes.
          if (!state.complete) {
            reject(new StateLostError(this.rank, name, this.f, state.incomplete));
            return;
          }
          // Union of the replies, deduplicated by lsn, below-watermark records dropped.
          const byLsn = new Map<number, Uint8Array>();
          for (const rec of state.got) if (rec.lsn >= state.low && !byLsn.has(rec.lsn)) byLsn.set(rec.lsn, rec.data);
          const records = [...byLsn.entries()].sort((a, b) => a[0] - b[0]).map(([lsn, data]) => ({ lsn, data }));
          resolve({ records, low: state.low });
        },
      };
      this.fetches.set(id, state);
      for (const r of this.replicas) this.send(r, ReplicationTag.Fetch, new Writer().u32(id).str(name).done());
    });
  }
}

// ---------------------------------------------------------------- the origin's log

export class ReplicatedLog implements LogStore {
  readonly medium: StorageMedium = "volatile-memory-of-processes";
  private records: LogRecord[] = [];
  private low = 0;
  private next = 0;
  /** Records appended but not yet sent to the replicas. */
  private unsent: LogRecord[] = [];
  private flushQueued = false;
  /** Per replica rank: every record below this lsn is acknowledged. */
  private readonly acked = new Map<number, number>();
  private waiters: { target: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private closed = false;
  /** Recovering: the fetch has not returned yet, so there is nothing to refill a replica with (restore refills all). */
  private restoring: boolean;
  private readonly _stats: LogStats = { records: 0, bytes: 0, syncs: 0 };

  /** @internal — use `ReplicationService.openLog`. */
  constructor(
    private readonly service: ReplicationService,
    readonly name: string,
  ) {
    for (const r of service.replicas) this.acked.set(r, 0);
    this.restoring = service.incarnation > 0;
  }

  get nextLsn(): number {
    return this.next;
  }

  get stats(): Readonly<LogStats> {
    return this._stats;
  }

  append(data: Uint8Array): number {
    if (this.closed) throw new Error(`replicated log ${this.name} is closed`);
    const rec: LogRecord = { lsn: this.next++, data: data.slice() };
    this.records.push(rec);
    this.unsent.push(rec);
    this._stats.records++;
    this._stats.bytes += data.byteLength;
    // Appends of one synchronous burst travel together.
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
    return rec.lsn;
  }

  sync(): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`replicated log ${this.name} is closed`));
    const target = this.next;
    if (this.minAcked() >= target) return Promise.resolve();
    this.flush();
    return new Promise((resolve, reject) => this.waiters.push({ target, resolve, reject }));
  }

  async readAll(): Promise<LogRecord[]> {
    return this.records.filter((r) => r.lsn >= this.low);
  }

  async truncatePrefix(lsn: number): Promise<void> {
    if (lsn <= this.low) return;
    this.low = Math.min(lsn, this.next);
    this.records = this.records.filter((r) => r.lsn >= this.low);
    const msg = new Writer().str(this.name).lsn(this.low).done();
    for (const r of this.service.replicas) this.service.send(r, ReplicationTag.Truncate, msg);
    // A sync waiting for records the truncation dropped is done: they need no replicas (a durable
    // checkpoint covers them), and no ack for them may ever come.
    this.resolveWaiters();
  }

  async close(): Promise<void> {
    this.closed = true;
    const err = new Error(`replicated log ${this.name} closed before sync completed`);
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  // ---- called by the service

  /** @internal */
  restore(records: LogRecord[], low: number): void {
    this.restoring = false;
    this.low = low;
    this.records = records.filter((r) => r.lsn >= low);
    const last = this.records[this.records.length - 1];
    this.next = Math.max(low, last === undefined ? 0 : last.lsn + 1);
    // Re-replicate what we recovered, as a full refill: a replica may have lost it, and every
    // replica's copy is complete again (an empty log refills too, so the flag is set).
    this.refillAll();
  }

  /** @internal Every replica gets the whole live log, marked as a full refill. */
  refillAll(): void {
    for (const r of this.service.replicas) this.sendAppend(r, this.records, true);
  }

  /** @internal */
  onAck(from: number, upTo: number): void {
    const prev = this.acked.get(from);
    if (prev === undefined || upTo <= prev) return;
    this.acked.set(from, upTo);
    this.resolveWaiters();
  }

  /** Resolves the syncs every replica's acks (or the truncation point) now cover. */
  private resolveWaiters(): void {
    const min = this.minAcked();
    if (this.waiters.length === 0 || this.waiters[0]!.target > min) return;
    const ready = this.waiters.filter((w) => w.target <= min);
    this.waiters = this.waiters.filter((w) => w.target > min);
    for (const w of ready) w.resolve();
  }

  /** @internal A replica restarted with empty memory: resend everything live. */
  refill(rank: number): void {
    if (this.closed || this.restoring) return;
    this.acked.set(rank, this.low);
    this.sendAppend(rank, this.records, true);
  }

  private minAcked(): number {
    let min = Infinity;
    for (const v of this.acked.values()) min = Math.min(min, v);
    // Acks never go below the truncation point: truncated records need no replicas.
    return Math.max(min, this.low);
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.closed || this.unsent.length === 0) return;
    const recs = this.unsent;
    this.unsent = [];
    this._stats.syncs++;
    for (const r of this.service.replicas) this.sendAppend(r, recs, false);
  }

  /**
   * Sends `recs` in frames of at most ~APPEND_BATCH_BYTES, so a refill never exceeds the
   * transport's frame limit. A refill is numbered part i of n (at least one frame, even
   * empty): the replica counts its copy complete only once it got every part in order.
   */
  private sendAppend(to: number, recs: readonly LogRecord[], refill: boolean): void {
    const frames: (readonly LogRecord[])[] = [];
    let start = 0;
    while (start < recs.length) {
      let end = start;
      let bytes = 0;
      while (end < recs.length && (end === start || bytes + recs[end]!.data.byteLength <= APPEND_BATCH_BYTES)) bytes += recs[end++]!.data.byteLength;
      frames.push(recs.slice(start, end));
      start = end;
    }
    if (refill && frames.length === 0) frames.push([]);
    frames.forEach((part, i) => {
      const w = new Writer().str(this.name).lsn(this.low).u32(i).u32(refill ? frames.length : 0);
      writeRecords(w, part);
      this.service.send(to, ReplicationTag.Append, w.done());
    });
  }
}
