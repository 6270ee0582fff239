/**
 * On-disk record format of the disk and NFS logs.
 *
 *   offset 0  u16 magic      0xE61D: lets the corruption scan find record starts
 *   offset 2  u16 flags      reserved, 0
 *   offset 4  u32 length     bytes of data
 *   offset 8  u32 lsn low    lsn as two u32 halves (lsns stay below 2^53)
 *   offset 12 u32 lsn high
 *   offset 16 u32 crc32      over bytes 0..16 and the data: a torn or flipped
 *                            header is caught, not only torn data
 *   offset 20 data
 *
 * Little-endian throughout.
 */
import { crc32 } from "node:zlib";
import { crc32Extend } from "../crc32-extend.js";

export const RECORD_MAGIC = 0xe61d;
export const HEADER_BYTES = 20;
/** Larger lengths are treated as corruption rather than trusted for an allocation. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export function encodedSize(dataLength: number): number {
  return HEADER_BYTES + dataLength;
}

/** Writes one record into `out` at `at`; returns the offset after it. */
export function encodeRecord(out: Buffer, at: number, lsn: number, data: Uint8Array): number {
  out.writeUInt16LE(RECORD_MAGIC, at);
  out.writeUInt16LE(0, at + 2);
  out.writeUInt32LE(data.length, at + 4);
  out.writeUInt32LE(lsn % 0x1_0000_0000, at + 8);
  out.writeUInt32LE(Math.floor(lsn / 0x1_0000_0000), at + 12);
  const crc = crc32Extend(data, crc32(out.subarray(at, at + 16)));
  out.writeUInt32LE(crc, at + 16);
  out.set(data, at + HEADER_BYTES);
  return at + HEADER_BYTES + data.length;
}

export type DecodeResult =
  | { readonly ok: true; readonly lsn: number; readonly data: Buffer; readonly end: number }
  | { readonly ok: false; readonly reason: string };

/** Decodes the record at `at`; never throws. `data` is a view into `buf`. */
export function decodeRecord(buf: Buffer, at: number): DecodeResult {
  if (buf.length - at < HEADER_BYTES) return { ok: false, reason: "short header" };
  if (buf.readUInt16LE(at) !== RECORD_MAGIC) return { ok: false, reason: "bad magic" };
  const length = buf.readUInt32LE(at + 4);
  if (length > MAX_RECORD_BYTES) return { ok: false, reason: `bad length ${length}` };
  const end = at + HEADER_BYTES + length;
  if (end > buf.length) return { ok: false, reason: `short record (length ${length}, ${buf.length - at - HEADER_BYTES} bytes left)` };
  const data = buf.subarray(at + HEADER_BYTES, end);
  const crc = crc32Extend(data, crc32(buf.subarray(at, at + 16)));
  if (crc !== buf.readUInt32LE(at + 16)) return { ok: false, reason: "crc mismatch" };
  const lsn = buf.readUInt32LE(at + 8) + buf.readUInt32LE(at + 12) * 0x1_0000_0000;
  return { ok: true, lsn, data, end };
}

/**
 * Looks for any valid record starting after `from`. Used to tell a torn tail
 * (nothing valid follows) from corruption in the middle (valid data follows).
 * Returns its offset or -1.
 */
export function findValidRecord(buf: Buffer, from: number): number {
  const lo = RECORD_MAGIC & 0xff;
  const hi = RECORD_MAGIC >> 8;
  for (let i = buf.indexOf(lo, from); i !== -1 && i + HEADER_BYTES <= buf.length; i = buf.indexOf(lo, i + 1)) {
    if (buf[i + 1] === hi && decodeRecord(buf, i).ok) return i;
  }
  return -1;
}
