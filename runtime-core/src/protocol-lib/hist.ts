/**
 * The optimistic history's storage, for generated protocols (blocks
 * optimistic/async-log, optimistic/checkpoint, optimistic/orphan and
 * optimistic/rollback import it from `@egida/runtime-core/protocol-lib`):
 * every delivery of the current history packed into three typed arrays
 * instead of one retained `InMsg` per delivery.
 *
 * Why: the history holds every delivery since the initial state (rollback
 * re-executes a prefix of it and re-delivers the non-orphan rest), so kept as
 * objects each delivery was an `InMsg`, its piggyback view and the payload
 * Buffer (an external ArrayBuffer) promoted to old space and traced or swept
 * by every GC, the cost out-log.ts removed from the retransmission buffer
 * (docs/performance.md). Packed, the GC sees no new object per delivery.
 *
 * The history only grows (a rollback starts a new one, a durable checkpoint
 * a shorter one): piggybacks and payloads go into pooled chunks (chunks.ts
 * says why), so growing never copies. `histAt` copies, so nothing keeps a
 * view into a chunk.
 */
import { CHUNK_BYTES, chunkAppend, payloadByteAt, pbWordAt, releaseChunk, type Chunk } from "./chunks.js";
import type { InMsg } from "./in-msg.js";

/** The deliveries of one history, in rsn order (entry i has rsn i + 1). */
export interface OptHist {
  length: number;
  /** Per entry, 9 numbers: from, ssn, fromIncarnation, arrival, event ts, chunk, byte offset in it, piggyback words, payload bytes. */
  ix: Float64Array;
  chunks: Chunk[];
  /** Write position in the last chunk. */
  fill: number;
}

const HSTRIDE = 9;

export function newOptHist(): OptHist {
  return { length: 0, ix: new Float64Array(HSTRIDE * 64), chunks: [], fill: CHUNK_BYTES };
}

/** Appends delivery `m` (piggyback and payload copied), which is event `ts` of the history. */
export function histPush(h: OptHist, m: InMsg, ts: number): void {
  const off = chunkAppend(h, m.pb, m.pb.length, m.payload);
  if (HSTRIDE * (h.length + 1) > h.ix.length) {
    const ix = new Float64Array(2 * h.ix.length);
    ix.set(h.ix);
    h.ix = ix;
  }
  const e = HSTRIDE * h.length;
  const ix = h.ix;
  ix[e] = m.from;
  ix[e + 1] = m.ssn;
  ix[e + 2] = m.fromIncarnation;
  ix[e + 3] = m.arrival;
  ix[e + 4] = ts;
  ix[e + 5] = h.chunks.length - 1;
  ix[e + 6] = off;
  ix[e + 7] = m.pb.length;
  ix[e + 8] = m.payload.byteLength;
  h.length++;
}

export function histFrom(h: OptHist, i: number): number {
  return h.ix[HSTRIDE * i]!;
}

export function histSsn(h: OptHist, i: number): number {
  return h.ix[HSTRIDE * i + 1]!;
}

/** The event timestamp of entry i. */
export function histTs(h: OptHist, i: number): number {
  return h.ix[HSTRIDE * i + 4]!;
}

/** Word x of entry i's piggyback (no copy). */
export function histPb(h: OptHist, i: number, x: number): number {
  const e = HSTRIDE * i;
  return h.chunks[h.ix[e + 5]!]!.u32[pbWordAt(h.ix[e + 6]!) + x]!;
}

/** Entry i as a message of its own, as delivered: fresh copies of its piggyback and payload. */
export function histAt(h: OptHist, i: number): InMsg {
  const e = HSTRIDE * i;
  const ix = h.ix;
  const c = h.chunks[ix[e + 5]!]!;
  const off = ix[e + 6]!;
  const w = pbWordAt(off);
  const len = ix[e + 7]!;
  const b = payloadByteAt(off, len);
  return { from: ix[e]!, ssn: ix[e + 1]!, fromIncarnation: ix[e + 2]!, pb: c.u32.slice(w, w + len), payload: c.u8.slice(b, b + ix[e + 8]!), arrival: ix[e + 3]! };
}

/**
 * A history holding entries `k ..` of `h` (a durable checkpoint covers the
 * first k: no rollback goes below it). `h` is consumed: its chunks go back to
 * the pool and it is left empty, so a stale reference reads nothing rather
 * than reused memory (the one caller replaces the history with the result).
 */
export function histDropPrefix(h: OptHist, k: number): OptHist {
  const out = newOptHist();
  for (let i = k; i < h.length; i++) histPush(out, histAt(h, i), histTs(h, i));
  for (const c of h.chunks) releaseChunk(c);
  h.chunks = [];
  h.length = 0;
  h.fill = CHUNK_BYTES;
  return out;
}
