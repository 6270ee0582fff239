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

export class FrameDecoder {
  private chunks: Buffer[] = [];
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
      this.buffered = 0;
      throw e;
    }
  }

  /** Stop decoding (the connection is going away): later pushes throw, buffered bytes are dropped. */
  abandon(): void {
    this.broken = true;
    this.chunks = [];
    this.buffered = 0;
  }

  /** Bytes received but not yet part of an emitted frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  private parseHeader(): number {
    const h = this.peek(HEADER_BYTES);
    const magic = h.readUInt32BE(0);
    if (magic !== MAGIC) throw new FrameError(`bad magic 0x${magic.toString(16)}`);
    if (h[4] !== VERSION) throw new FrameError(`unsupported version ${h[4]}`);
    const kind = h[5]!;
    if (!isKnownKind(kind)) throw new FrameError(`unknown kind ${kind}`);
    const total = HEADER_BYTES + h.readUInt32BE(16) + h.readUInt32BE(20) + TRAILER_BYTES;
    if (total > this.maxFrameBytes) throw new FrameError(`frame of ${total} bytes exceeds the limit of ${this.maxFrameBytes}`);
    return total;
  }

  /** The first `n` bytes (n <= HEADER_BYTES), without consuming them. */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first;
    let off = 0;
    for (const c of this.chunks) {
      const k = Math.min(c.length, n - off);
      c.copy(this.header, off, 0, k);
      off += k;
      if (off === n) break;
    }
    return this.header;
  }

  private take(n: number): WireFrame {
    const first = this.chunks[0]!;
    let bytes: Buffer;
    let shared: boolean;
    if (first.length >= n) {
      bytes = first.subarray(0, n);
      shared = true;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      bytes = Buffer.allocUnsafe(n);
      shared = false;
      let off = 0;
      while (off < n) {
        const c = this.chunks[0]!;
        const k = Math.min(c.length, n - off);
        c.copy(bytes, off, 0, k);
        off += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    const body = n - TRAILER_BYTES;
    const want = bytes.readUInt32BE(body);
    const got = crc32(bytes.subarray(0, body));
    if (got !== want) throw new FrameError(`CRC mismatch (got 0x${got.toString(16)}, frame says 0x${want.toString(16)})`);
    const pbLen = bytes.readUInt32BE(16);
    const plLen = bytes.readUInt32BE(20);
    // A small frame in a shared chunk is copied so it does not pin the chunk.
    if (shared && n * 2 < first.length) bytes = Buffer.from(bytes);
    return {
      kind: bytes[5]!,
      tag: bytes.readUInt16BE(6),
      from: bytes.readUInt32BE(8),
      fromIncarnation: bytes.readUInt32BE(12),
      piggyback: bytes.subarray(HEADER_BYTES, HEADER_BYTES + pbLen),
      payload: bytes.subarray(HEADER_BYTES + pbLen, HEADER_BYTES + pbLen + plLen),
    };
  }
}
