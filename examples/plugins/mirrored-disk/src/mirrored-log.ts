/**
 * A log written to two directories (two disks): one file per copy, the same
 * bytes appended to both and fdatasync'd on both before `sync` resolves.
 *
 * File format (little-endian), per copy:
 *   header  magic u32 "EGMD" | crc32 u32 | base lsn f64        (crc over the base)
 *   records in runtime-core's log record format (@egida/runtime-core/storage
 *           encodeRecord / decodeRecord: magic, length, lsn, crc over header and data)
 * `base` is the truncation point: the first live lsn, kept when every record
 * is truncated so lsns are never reused.
 *
 * Recovery reads both copies up to their first bad record (a torn tail, or
 * corruption) and takes the copy whose valid prefix reaches further; the
 * truncation point is the higher of the two bases (a crash between the two
 * rewrites of truncatePrefix leaves one copy truncated). If the copies
 * differ, both are rewritten to the recovered records before the first
 * append, so they are identical again.
 *
 * The live records are also kept in memory (readAll, rewrites): the log
 * holds what the last checkpoint does not cover, which checkpoints keep small.
 */
import { mkdir, open, readFile, rename, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "@egida/runtime-core/host";
import { LogFailedError, StorageError, decodeRecord, encodeRecord, encodedSize, ioError } from "@egida/runtime-core/storage";
import type { LogRecord, LogStats, LogStore, StorageMedium } from "@egida/runtime-core/spi";

const MAGIC = 0x444d4745; // "EGMD"
const HEADER = 16;

export interface MirroredLogOptions {
  readonly medium?: StorageMedium;
  readonly warn?: (message: string) => void;
}

/** What one copy holds up to its first bad record. */
interface CopyScan {
  readonly file: string;
  /** null: no valid header (missing, empty or damaged file). */
  readonly base: number | null;
  readonly records: LogRecord[];
  readonly validBytes: number;
  readonly fileBytes: number;
}

function header(base: number): Buffer {
  const b = Buffer.alloc(HEADER);
  b.writeUInt32LE(MAGIC, 0);
  b.writeDoubleLE(base, 8);
  b.writeUInt32LE(crc32(b.subarray(8, 16)), 4);
  return b;
}

/** Records in runtime-core's log record format (the disk and NFS logs'; CRC over header and data). */
function encode(records: readonly LogRecord[]): Buffer {
  const out = Buffer.allocUnsafe(records.reduce((n, r) => n + encodedSize(r.data.length), 0));
  let at = 0;
  for (const r of records) at = encodeRecord(out, at, r.lsn, r.data);
  return out;
}

/** The valid prefix of one copy's bytes. */
export function scanCopy(file: string, bytes: Buffer | null): CopyScan {
  const fileBytes = bytes?.length ?? 0;
  if (bytes === null || bytes.length < HEADER || bytes.readUInt32LE(0) !== MAGIC || bytes.readUInt32LE(4) !== crc32(bytes.subarray(8, 16))) {
    return { file, base: null, records: [], validBytes: 0, fileBytes };
  }
  const base = bytes.readDoubleLE(8);
  const records: LogRecord[] = [];
  let at = HEADER;
  let next = base;
  for (;;) {
    const r = decodeRecord(bytes, at);
    if (!r.ok) break; // short, torn or corrupt: the valid prefix ends here
    if (r.lsn !== next) break; // a stale record (never written by this log at this place): stop
    records.push({ lsn: r.lsn, data: new Uint8Array(r.data) });
    next++;
    at = r.end;
  }
  return { file, base, records, validBytes: at, fileBytes };
}

async function readCopy(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw ioError(e, "read", file);
  }
}

export class MirroredLog implements LogStore {
  readonly medium: StorageMedium;
  readonly stats: LogStats = { records: 0, bytes: 0, syncs: 0 };
  private base: number;
  private live: LogRecord[];
  /** Appended, not yet written. */
  private pending: LogRecord[] = [];
  private handles: FileHandle[] = [];
  /** Bytes of each copy's file (the next write's position). */
  private size = 0;
  /** The flush that will take what is pending now (group commit: later sync calls join it). */
  private queued: Promise<void> | null = null;
  /** The last file operation: flushes and rewrites run one at a time, in call order. */
  private last: Promise<void> = Promise.resolve();
  private failed: unknown = null;
  private closed = false;

  private constructor(
    private readonly files: readonly [string, string],
    base: number,
    live: LogRecord[],
    opts: MirroredLogOptions,
  ) {
    this.medium = opts.medium ?? "mirrored-disk";
    this.base = base;
    this.live = live;
  }

  get nextLsn(): number {
    return this.base + this.live.length + this.pending.length;
  }

  /** Open (or create) log `name` in both directories and recover it. */
  static async open(dirs: readonly [string, string], name: string, opts: MirroredLogOptions = {}): Promise<MirroredLog> {
    const warn = opts.warn ?? (() => {});
    const files = [join(dirs[0], `log-${name}`), join(dirs[1], `log-${name}`)] as const;
    for (const d of dirs) {
      try {
        await mkdir(d, { recursive: true });
      } catch (e) {
        throw ioError(e, "create", d);
      }
    }
    const scans = await Promise.all(files.map(async (f) => scanCopy(f, await readCopy(f))));
    const [a, b] = [scans[0]!, scans[1]!];
    const end = (s: CopyScan): number => (s.base ?? 0) + s.records.length;
    const best = end(b) > end(a) ? b : a;
    const base = Math.max(a.base ?? 0, b.base ?? 0);
    const live = best.records.filter((r) => r.lsn >= base);
    const log = new MirroredLog(files, Math.max(base, end(best) - live.length), live, opts);
    for (const s of scans) {
      if (s.fileBytes > s.validBytes && s.base !== null) warn(`mirrored-disk: ${s.file}: dropped ${s.fileBytes - s.validBytes} bytes after the last valid record (torn tail or corruption)`);
      else if (s.fileBytes > 0 && s.base === null) warn(`mirrored-disk: ${s.file}: no valid header; recovered from the other copy`);
    }
    const same = scans.every((s) => s.base === log.base && s.records.length === live.length && s.fileBytes === s.validBytes);
    if (same && a.base !== null) await log.openForAppend(a.validBytes);
    else {
      if (a.base !== null || b.base !== null) warn(`mirrored-disk: log ${name}: copies differ; both rewritten from ${best.file} (${live.length} records from lsn ${log.base})`);
      await log.rewrite();
    }
    return log;
  }

  append(data: Uint8Array): number {
    if (this.closed) throw new StorageError(`mirrored-disk log ${this.files[0]} is closed`, this.files[0]);
    if (this.failed !== null) throw new LogFailedError(this.files[0], this.failed);
    const lsn = this.nextLsn;
    this.pending.push({ lsn, data: new Uint8Array(data) }); // a copy: the caller may reuse its buffer
    this.stats.records++;
    this.stats.bytes += data.length;
    return lsn;
  }

  sync(): Promise<void> {
    if (this.failed !== null) return Promise.reject(new LogFailedError(this.files[0], this.failed));
    if (this.queued !== null) return this.queued;
    if (this.pending.length === 0) return this.last; // nothing new: wait for the operation in flight, if any
    const p = this.serial(() => this.flush());
    this.queued = p;
    return p;
  }

  /** Run `op` after every file operation started before it (a rewrite must not close handles under a write). */
  private serial(op: () => Promise<void>): Promise<void> {
    const p = this.last.then(op, op);
    this.last = p;
    return p;
  }

  private async flush(): Promise<void> {
    this.queued = null;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    // Live at once, so nextLsn (base + live + pending) never counts the batch out while it is written.
    this.live.push(...batch);
    const bytes = encode(batch);
    const at = this.size;
    try {
      await Promise.all(
        this.handles.map(async (h, i) => {
          try {
            await h.write(bytes, 0, bytes.length, at);
            await h.datasync();
          } catch (e) {
            throw ioError(e, "append to", this.files[i]!);
          }
        }),
      );
    } catch (e) {
      // Which bytes reached which copy is unknown now: refuse further use (recovery sorts it out).
      this.failed = e;
      throw e;
    }
    this.size += bytes.length;
    this.stats.syncs++;
  }

  async readAll(): Promise<LogRecord[]> {
    return [...this.live, ...this.pending];
  }

  async truncatePrefix(lsn: number): Promise<void> {
    if (lsn <= this.base) return;
    if (this.failed !== null) throw new LogFailedError(this.files[0], this.failed);
    await this.serial(async () => {
      await this.flush(); // what is appended goes into the rewrite durable, not lost with the old file
      const drop = Math.min(lsn, this.base + this.live.length) - this.base;
      if (drop <= 0) return;
      this.live = this.live.slice(drop);
      this.base += drop;
      await this.rewrite();
    });
  }

  /**
   * Replace both copies by header(base) + the live records: a temp file,
   * fdatasync, rename, fsync of the directory, one copy after the other, so a
   * crash leaves at least one complete copy.
   */
  private async rewrite(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.close().catch(() => {})));
    this.handles = [];
    const bytes = Buffer.concat([header(this.base), encode(this.live)]);
    for (const file of this.files) {
      const tmp = `${file}.tmp`;
      try {
        await rm(tmp, { force: true });
        const h = await open(tmp, "w");
        try {
          await h.write(bytes, 0, bytes.length, 0);
          await h.datasync();
        } finally {
          await h.close();
        }
        await rename(tmp, file);
        const dir = await open(join(file, ".."), "r");
        try {
          await dir.sync();
        } finally {
          await dir.close();
        }
      } catch (e) {
        await rm(tmp, { force: true }).catch(() => {});
        this.failed = ioError(e, "rewrite", file);
        throw this.failed;
      }
    }
    await this.openForAppend(bytes.length);
  }

  private async openForAppend(size: number): Promise<void> {
    this.size = size;
    for (const file of this.files) {
      try {
        const h = await open(file, "r+");
        await h.truncate(size); // drop a torn tail beyond the valid prefix (only when the copies agree on it)
        this.handles.push(h);
      } catch (e) {
        throw ioError(e, "open", file);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync().catch(() => {});
    this.closed = true;
    await Promise.all(this.handles.map((h) => h.close().catch(() => {})));
    this.handles = [];
  }
}
