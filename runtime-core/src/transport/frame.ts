/**
 * The TCP wire format: one length-prefixed binary frame per message.
 *
 *   offset size  field
 *   0      4     magic "EGDA" (0x45474441)
 *   4      1     version (2)
 *   5      1     kind (1 App, 2 Control; >= 0x80 transport-internal: handshake, heartbeat, ack)
 *   6      2     tag (u16)
 *   8      4     from rank (u32)
 *   12     4     from incarnation (u32)
 *   16     4     piggyback length (u32)
 *   20     4     payload length (u32)
 *   24     ...   piggyback, then payload
 *   end-4  4     CRC32 (zlib) of everything before it
 *
 * All integers are big-endian. The CRC catches corruption that TCP's own
 * 16-bit checksum lets through and, more usefully, framing bugs: a decoder
 * that lost sync sees a bad magic or CRC and drops the connection instead of
 * delivering garbage.
 */
import { crc32 } from "node:zlib";

export const MAGIC = 0x45474441;
/**
 * 2: the Challenge and Auth handshake messages carry "frames received from
 * you so far" and the Ack kind exists (resend after a reset; see tcp.ts).
 */
export const VERSION = 2;
export const HEADER_BYTES = 24;
export const TRAILER_BYTES = 4;
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Transport-internal frame kinds; they never reach `TransportEvents.frame`. */
export const enum WireKind {
  App = 1,
  Control = 2,
  Hello = 0x81,
  Challenge = 0x82,
  Auth = 0x83,
  Welcome = 0x84,
  Heartbeat = 0x85,
  /** Payload: u64 count of App/Control frames received from the sender's peer on this (incarnation, incarnation) pair. */
  Ack = 0x86,
}

/** Bytes of a frame count on the wire (u64, big-endian). */
export const COUNT_BYTES = 8;

export function writeCount(buf: Buffer, off: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / 0x1_0000_0000), off);
  buf.writeUInt32BE(n >>> 0, off + 4);
}

export function readCount(b: Uint8Array, off: number): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return v.getUint32(off) * 0x1_0000_0000 + v.getUint32(off + 4);
}

export function countBytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(COUNT_BYTES);
  writeCount(b, 0, n);
  return b;
}

export interface WireFrame {
  readonly kind: number;
  readonly tag: number;
  readonly from: number;
  readonly fromIncarnation: number;
  readonly piggyback: Uint8Array;
  readonly payload: Uint8Array;
}

/** Bytes a frame takes on the wire. */
export function wireSize(piggybackBytes: number, payloadBytes: number): number {
  return HEADER_BYTES + piggybackBytes + payloadBytes + TRAILER_BYTES;
}

export function isKnownKind(kind: number): boolean {
  return kind === WireKind.App || kind === WireKind.Control || (kind >= WireKind.Hello && kind <= WireKind.Ack);
}

export function writeHeader(buf: Buffer, off: number, f: Omit<WireFrame, "piggyback" | "payload">, pbLen: number, plLen: number): void {
  buf.writeUInt32BE(MAGIC, off);
  buf[off + 4] = VERSION;
  buf[off + 5] = f.kind;
  buf.writeUInt16BE(f.tag, off + 6);
  buf.writeUInt32BE(f.from, off + 8);
  buf.writeUInt32BE(f.fromIncarnation, off + 12);
  buf.writeUInt32BE(pbLen, off + 16);
  buf.writeUInt32BE(plLen, off + 20);
}

/** Encode a whole frame into `buf` at `off` (which must have room). Returns the end offset. */
export function encodeInto(buf: Buffer, off: number, f: WireFrame): number {
  const pb = f.piggyback;
  const pl = f.payload;
  writeHeader(buf, off, f, pb.byteLength, pl.byteLength);
  let p = off + HEADER_BYTES;
  buf.set(pb, p);
  p += pb.byteLength;
  buf.set(pl, p);
  p += pl.byteLength;
  buf.writeUInt32BE(crc32(buf.subarray(off, p)), p);
  return p + TRAILER_BYTES;
}

/** Encode a frame into a fresh buffer (handshake messages, tests). */
export function encodeFrame(f: WireFrame): Buffer {
  const buf = Buffer.allocUnsafe(wireSize(f.piggyback.byteLength, f.payload.byteLength));
  encodeInto(buf, 0, f);
  return buf;
}

export class FrameError extends Error {
  override readonly name = "FrameError";
}
