/**
 * Fixed-size chunks for the packed logs of generated protocols (out-log.ts,
 * the retransmission buffer; hist.ts, the optimistic history), with a
 * per-process pool of free ones.
 *
 * Why: a log kept as one contiguous array per field had to be doubled and
 * copied as it grew, and every doubling landed on fresh memory, which on a VM
 * costs a page fault per 4 KiB first touched (bench/job.ts jacobi: ~3 ms per
 * MiB, more than the copy). A log in chunks never copies as it grows, and a
 * chunk whose messages are all dropped goes back to the pool, so the next
 * interval's messages land on memory already faulted in. The logs copy
 * whatever they hand out, so a pooled chunk is never seen through a view.
 */

/** A chunk's bytes and the same memory as words (piggybacks are stored 4-byte aligned). */
export interface Chunk {
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
}

export const CHUNK_BYTES = 64 * 1024;
/** Free chunks kept for reuse, per process: 8 MiB at most. */
const POOL_MAX = 128;
const pool: Chunk[] = [];

/** A chunk with room for `bytes`: a pooled one, or a fresh one (its own size when larger than a chunk; never pooled). */
export function takeChunk(bytes: number): Chunk {
  const pooled = bytes <= CHUNK_BYTES ? pool.pop() : undefined;
  if (pooled !== undefined) return pooled;
  const buf = new ArrayBuffer(bytes <= CHUNK_BYTES ? CHUNK_BYTES : (bytes + 3) & ~3);
  return { u8: new Uint8Array(buf), u32: new Uint32Array(buf) };
}

/** Gives back a chunk nothing refers to any more. */
export function releaseChunk(c: Chunk): void {
  if (c.u8.length === CHUNK_BYTES && pool.length < POOL_MAX) pool.push(c);
}

/** What a log appends into: its chunks, the last one being written, and the write position in it. */
export interface ChunkTail {
  chunks: Chunk[];
  fill: number;
}

/** Where a message chunkAppend wrote at byte `off` keeps its piggyback: the first word's index in `u32`. */
export function pbWordAt(off: number): number {
  return off >>> 2;
}

/** Where it keeps its payload: the first byte's index in `u8`, after its `len` piggyback words. */
export function payloadByteAt(off: number, len: number): number {
  return off + 4 * len;
}

/**
 * Appends one message, `len` piggyback words from `pb` then the payload bytes
 * (both copied), to the last chunk (a new one when it does not fit) and
 * returns its byte offset there (4-aligned): the message is at that offset of
 * `t.chunks[t.chunks.length - 1]`.
 */
export function chunkAppend(t: ChunkTail, pb: Uint32Array, len: number, payload: Uint8Array): number {
  const pn = payload.byteLength;
  const need = 4 * len + pn;
  let last = t.chunks.length - 1;
  if (last < 0 || t.fill + need > t.chunks[last]!.u8.length) {
    t.chunks.push(takeChunk(need));
    t.fill = 0;
    last++;
  }
  const c = t.chunks[last]!;
  const off = t.fill;
  const w = pbWordAt(off);
  const u32 = c.u32;
  for (let i = 0; i < len; i++) u32[w + i] = pb[i]!;
  const b = payloadByteAt(off, len);
  const u8 = c.u8;
  // Small payloads (the common case) copy faster by hand than through set()'s call.
  if (pn <= 64) for (let i = 0; i < pn; i++) u8[b + i] = payload[i]!;
  else u8.set(payload, b);
  t.fill = (b + pn + 3) & ~3;
  return off;
}
