/**
 * Reading a log segment back: split it into records and classify the first
 * bad byte as a torn tail (nothing valid after it) or as corruption in the
 * middle (valid records follow, so dropping them would lose acknowledged data).
 */
import type { LogRecord } from "../spi.js";
import { decodeRecord, findValidRecord } from "./record-format.js";

export interface SegmentScan {
  /** Records in order (only when collected). */
  readonly records: LogRecord[];
  /** Offset just past the last good record. */
  readonly end: number;
  /** Lsn the next record would have. */
  readonly nextLsn: number;
  /** Set when bytes at `end` are not a good record. */
  readonly bad?: {
    readonly offset: number;
    readonly reason: string;
    /** Offset of a valid record after the bad bytes, or -1 (a torn tail). */
    readonly validAfter: number;
  };
}

export const SEGMENT_PREFIX = "seg-";
export const SEGMENT_SUFFIX = ".log";

/** Segment files are named by their first lsn, zero-padded so names sort like numbers. */
export function segmentName(firstLsn: number): string {
  return `${SEGMENT_PREFIX}${String(firstLsn).padStart(16, "0")}${SEGMENT_SUFFIX}`;
}

export function parseSegmentName(name: string): number | null {
  if (!name.startsWith(SEGMENT_PREFIX) || !name.endsWith(SEGMENT_SUFFIX)) return null;
  const digits = name.slice(SEGMENT_PREFIX.length, -SEGMENT_SUFFIX.length);
  if (!/^\d{1,16}$/.test(digits)) return null;
  return Number(digits);
}

export function scanSegment(buf: Buffer, firstLsn: number, collect: boolean): SegmentScan {
  const records: LogRecord[] = [];
  let at = 0;
  let lsn = firstLsn;
  while (at < buf.length) {
    const r = decodeRecord(buf, at);
    let reason: string | null = null;
    if (!r.ok) reason = r.reason;
    else if (r.lsn !== lsn) reason = `lsn ${r.lsn} where ${lsn} was expected`;
    if (reason !== null || !r.ok) {
      // Search from `at` itself: a well-formed record with the wrong lsn counts as valid data.
      const validAfter = findValidRecord(buf, at);
      return { records, end: at, nextLsn: lsn, bad: { offset: at, reason: reason ?? "bad record", validAfter } };
    }
    if (collect) records.push({ lsn: r.lsn, data: r.data });
    at = r.end;
    lsn++;
  }
  return { records, end: at, nextLsn: lsn };
}
