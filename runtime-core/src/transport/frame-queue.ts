/**
 * A per-peer queue of encoded frames, which is both the write batcher for a
 * live connection and the bounded buffer for a peer that is down.
 *
 * Small frames are encoded back to back into a 64 KiB slab, so a burst of
 * sends becomes a few large socket writes instead of one write (and one
 * allocation) per frame. A large frame gets its header encoded separately and
 * its payload queued as is (zero-copy: the caller must not mutate a payload
 * after `send`). Slab memory is never reused once handed out, because the
 * socket may still hold it.
 */
import { crc32 } from "node:zlib";
import { crc32Extend } from "../crc32-extend.js";
import { encodeInto, HEADER_BYTES, TRAILER_BYTES, writeHeader, type WireFrame } from "./frame.js";

const SLAB_BYTES = 64 * 1024;
/** Frames up to this size are copied into the slab; larger payloads are written zero-copy. */
const INLINE_MAX = 16 * 1024;

export class FrameQueue {
  private chunks: Buffer[] = [];
  /** Encoded bytes waiting (queued chunks plus the open slab region). */
  bytes = 0;
  frames = 0;
  private slab: Buffer = Buffer.allocUnsafeSlow(0);
  private slabStart = 0;
  private slabEnd = 0;

  push(f: WireFrame): number {
    const pbLen = f.piggyback.byteLength;
    const plLen = f.payload.byteLength;
    const total = HEADER_BYTES + pbLen + plLen + TRAILER_BYTES;
    if (total <= INLINE_MAX) {
      if (this.slabEnd + total > this.slab.length) {
        this.closeSlabRegion();
        this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
        this.slabStart = this.slabEnd = 0;
      }
      this.slabEnd = encodeInto(this.slab, this.slabEnd, f);
    } else {
      this.closeSlabRegion();
      const head = Buffer.allocUnsafe(HEADER_BYTES + pbLen);
      writeHeader(head, 0, f, pbLen, plLen);
      head.set(f.piggyback, HEADER_BYTES);
      const payload = Buffer.from(f.payload.buffer, f.payload.byteOffset, plLen);
      const trailer = Buffer.allocUnsafe(TRAILER_BYTES);
      trailer.writeUInt32BE(crc32Extend(payload, crc32(head)), 0);
      this.chunks.push(head, payload, trailer);
    }
    this.bytes += total;
    this.frames++;
    return total;
  }

  /** Hand out everything queued, in order, and empty the queue. */
  drain(): Buffer[] {
    this.closeSlabRegion();
    const out = this.chunks;
    this.chunks = [];
    this.bytes = 0;
    this.frames = 0;
    return out;
  }

  private closeSlabRegion(): void {
    if (this.slabEnd > this.slabStart) {
      this.chunks.push(this.slab.subarray(this.slabStart, this.slabEnd));
      this.slabStart = this.slabEnd;
    }
  }
}
