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
