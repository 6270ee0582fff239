/**
 * A streaming decoder for the wire format in frame.ts. TCP delivers arbitrary
 * chunks; the decoder keeps the chunks it has not consumed and emits each
 * frame once all its bytes are there, whatever the chunk boundaries.
 *
 * Copying policy: a frame that lies inside one chunk and fills most of it is
 * handed out as zero-copy subarrays. A small frame is copied out instead,
 * because a subarray would pin the whole (up to 64 KiB) socket chunk for as
 * long as the protocol keeps the payload, e.g. in a sender-based message log.
 * A frame split across chunks is assembled once (one copy).
 *
 * Any violation (bad magic, version, kind, size over the limit, CRC mismatch)
 * throws `FrameError`; the caller closes the connection. After an error the
 * decoder is unusable (the stream has lost sync).
 */
import { crc32 } from "node:zlib";
import { FrameError, HEADER_BYTES, isKnownKind, MAGIC, TRAILER_BYTES, VERSION, type WireFrame } from "./frame.js";

const NO_BYTES = Buffer.alloc(0);

export class FrameDecoder {
  private chunks: Buffer[] = [];
  /** Bytes of `chunks[0]` already consumed: an offset instead of a new subarray per frame. */
  private pos = 0;
  private buffered = 0;
  /** Bytes in the frame being assembled, or 0 while its header is incomplete. */
  private need = 0;
  private broken = false;
  private readonly header = Buffer.allocUnsafe(HEADER_BYTES);

  /** `maxFrameBytes` bounds a whole frame on the wire; it can be raised once the peer is authenticated. */
  constructor(public maxFrameBytes: number) {}

  /**
   * Feed a chunk; calls `onFrame` for each frame it completes, in order. On a
   * violation, the frames before it have been emitted and then it throws.
   */
  push(chunk: Buffer, onFrame: (f: WireFrame) => void): void {
    if (this.broken) throw new FrameError("decoder used after an error");
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    try {
      for (;;) {
        if (this.need === 0) {
          if (this.buffered < HEADER_BYTES) break;
          this.need = this.parseHeader();
        }
        if (this.buffered < this.need) break;
        const f = this.take(this.need);
        this.need = 0;
        onFrame(f);
        if (this.broken) return; // the callback closed the stream
      }
    } catch (e) {
      this.broken = true;
      this.chunks = [];
      this.pos = 0;
      this.buffered = 0;
      throw e;
    }
  }

  /** Stop decoding (the connection is going away): later pushes throw, buffered bytes are dropped. */
  abandon(): void {
    this.broken = true;
    this.chunks = [];
    this.pos = 0;
    this.buffered = 0;
  }

  /** Bytes received but not yet part of an emitted frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  private parseHeader(): number {
    const first = this.chunks[0]!;
    // The header in place when the first chunk holds it, else assembled (at offset 0 of `header`).
    const inPlace = first.length - this.pos >= HEADER_BYTES;
    const h = inPlace ? first : this.peekHeader();
    const at = inPlace ? this.pos : 0;
    const magic = h.readUInt32BE(at);
    if (magic !== MAGIC) throw new FrameError(`bad magic 0x${magic.toString(16)}`);
    if (h[at + 4] !== VERSION) throw new FrameError(`unsupported version ${h[at + 4]}`);
    const kind = h[at + 5]!;
    if (!isKnownKind(kind)) throw new FrameError(`unknown kind ${kind}`);
    const total = HEADER_BYTES + h.readUInt32BE(at + 16) + h.readUInt32BE(at + 20) + TRAILER_BYTES;
    if (total > this.maxFrameBytes) throw new FrameError(`frame of ${total} bytes exceeds the limit of ${this.maxFrameBytes}`);
    return total;
  }

  /** The header bytes spread over several chunks, copied into `header`, without consuming them. */
  private peekHeader(): Buffer {
    let off = 0;
    let from = this.pos;
    for (const c of this.chunks) {
      const k = Math.min(c.length - from, HEADER_BYTES - off);
      c.copy(this.header, off, from, from + k);
      off += k;
      from = 0;
      if (off === HEADER_BYTES) break;
    }
    return this.header;
  }

  private take(n: number): WireFrame {
    const first = this.chunks[0]!;
    const pos = this.pos;
    let bytes: Buffer;
    let at: number;
    if (first.length - pos >= n) {
      if (n * 2 < first.length) {
        // A small frame is copied out, so it does not pin the whole socket chunk.
        bytes = Buffer.allocUnsafe(n);
        first.copy(bytes, 0, pos, pos + n);
        at = 0;
      } else {
        bytes = first;
        at = pos;
      }
      if (first.length - pos === n) {
        this.chunks.shift();
        this.pos = 0;
      } else this.pos = pos + n;
    } else {
      bytes = Buffer.allocUnsafe(n);
      at = 0;
      let off = 0;
      while (off < n) {
        const c = this.chunks[0]!;
        const from = this.pos;
        const k = Math.min(c.length - from, n - off);
        c.copy(bytes, off, from, from + k);
        off += k;
        if (from + k === c.length) {
          this.chunks.shift();
          this.pos = 0;
        } else this.pos = from + k;
      }
    }
    this.buffered -= n;
    const body = n - TRAILER_BYTES;
    const want = bytes.readUInt32BE(at + body);
    const got = crc32(bytes.subarray(at, at + body));
    if (got !== want) throw new FrameError(`CRC mismatch (got 0x${got.toString(16)}, frame says 0x${want.toString(16)})`);
    const pbLen = bytes.readUInt32BE(at + 16);
    const plLen = bytes.readUInt32BE(at + 20);
    const pb = at + HEADER_BYTES;
    return {
      kind: bytes[at + 5]!,
      tag: bytes.readUInt16BE(at + 6),
      from: bytes.readUInt32BE(at + 8),
      fromIncarnation: bytes.readUInt32BE(at + 12),
      piggyback: pbLen === 0 ? NO_BYTES : bytes.subarray(pb, pb + pbLen),
      payload: bytes.subarray(pb + pbLen, pb + pbLen + plLen),
    };
  }
}
