/**
 * The retransmission buffer's storage, for generated protocols (blocks
 * core/transmit, core/retransmit, ckpt-only/rounds, optimistic/orphan,
 * log/send-log, log/watermark, collect/stable-log and causal/gather import it
 * from `@egida/runtime-core/protocol-lib`): one packed log per destination
 * instead of one `OutMsg` object per message. Nothing here depends on the
 * protocol's parameters, so every generated package imports this one copy.
 *
 * Why packed: the buffer holds every message sent since the destination last
 * reported stability (a whole checkpoint interval). Kept as objects, each
 * message was an entry object, a piggyback typed array and the payload Buffer
 * (an external ArrayBuffer), all promoted to old space and traced or swept by
 * every GC: measured at ~4-8 µs per message on the overhead bench, more than
 * all the rest of a protocol's per-message work (docs/performance.md).
 *
 * A message's piggyback words and payload bytes go, side by side, into
 * pooled chunks (chunks.ts says why); an index of 5 words per message locates
 * them. A chunk every message of which is stable goes back to the pool.
 * Nothing outside this file keeps a view into a chunk (`outAt` and `outPack`
 * copy), so reusing one is safe.
 */
import { CHUNK_BYTES, chunkAppend, payloadByteAt, pbWordAt, releaseChunk, type Chunk } from "./chunks.js";
import { takeWarm } from "./warm.js";

/** A sent message kept in the retransmission buffer (the sender-based message log). */
export interface OutMsg {
  readonly to: number;
  readonly ssn: number;
  readonly pb: Uint32Array;
  readonly payload: Uint8Array;
}

/** One destination's sent messages not yet known stable there, in ssn order. */
export interface OutLog {
  readonly to: number;
  /** Live entries (`outAt(q, 0 .. length - 1)`). */
  length: number;
  /** Index entry of the first live message. */
  head: number;
  /** Per entry, 5 words: ssn, absolute chunk number, byte offset in it, piggyback words, payload bytes. */
  ix: Uint32Array;
  /** Chunks still holding a live message and the one being written; `chunks[0]` is absolute chunk `chunkBase`. */
  chunks: Chunk[];
  chunkBase: number;
  /** Write position in the last chunk. */
  fill: number;
}

const STRIDE = 5;

export function newOutLog(to: number): OutLog {
  return { to, length: 0, head: 0, ix: new Uint32Array(STRIDE * 64), chunks: [], chunkBase: 0, fill: CHUNK_BYTES };
}

/** Room in the index for one more entry: compact in place when half of it is dropped prefix, else double. */
function growIndex(q: OutLog): void {
  const live = STRIDE * q.length;
  if (2 * (live + STRIDE) <= q.ix.length) q.ix.copyWithin(0, STRIDE * q.head, STRIDE * q.head + live);
  else {
    const ix = new Uint32Array(2 * (live + STRIDE));
    ix.set(q.ix.subarray(STRIDE * q.head, STRIDE * q.head + live));
    q.ix = ix;
  }
  q.head = 0;
}

/** Appends a message: `len` piggyback words from `pb` (copied) and the payload bytes (copied). */
export function outPush(q: OutLog, ssn: number, pb: Uint32Array, len: number, payload: Uint8Array): void {
  const off = chunkAppend(q, pb, len, payload);
  if (STRIDE * (q.head + q.length + 1) > q.ix.length) growIndex(q);
  const e = STRIDE * (q.head + q.length);
  const ix = q.ix;
  ix[e] = ssn;
  ix[e + 1] = q.chunkBase + q.chunks.length - 1;
  ix[e + 2] = off;
  ix[e + 3] = len;
  ix[e + 4] = payload.byteLength;
  q.length++;
}

/** Drops every entry with ssn ≤ k (stable at the destination); chunks left without a live message go back to the pool. */
export function outDrop(q: OutLog, k: number): void {
  const ix = q.ix;
  while (q.length > 0 && ix[STRIDE * q.head]! <= k) {
    q.head++;
    q.length--;
  }
  if (q.length === 0) {
    q.head = 0;
    // Nothing refers to any chunk: keep the last one and write it again from its start.
    const keep = q.chunks.length - 1;
    for (let i = 0; i < keep; i++) releaseChunk(q.chunks[i]!);
    if (keep > 0) {
      q.chunks.splice(0, keep);
      q.chunkBase += keep;
    }
    if (keep >= 0) q.fill = 0;
    return;
  }
  const drop = ix[STRIDE * q.head + 1]! - q.chunkBase;
  if (drop > 0) {
    for (let i = 0; i < drop; i++) releaseChunk(q.chunks[i]!);
    q.chunks.splice(0, drop);
    q.chunkBase += drop;
  }
}

/** Live entry i as a message of its own: fresh copies, so the log may drop and reuse its chunks under it. */
export function outAt(q: OutLog, i: number): OutMsg {
  const e = STRIDE * (q.head + i);
  const ix = q.ix;
  const c = q.chunks[ix[e + 1]! - q.chunkBase]!;
  const off = ix[e + 2]!;
  const w = pbWordAt(off);
  const len = ix[e + 3]!;
  const b = payloadByteAt(off, len);
  return { to: q.to, ssn: ix[e]!, pb: c.u32.slice(w, w + len), payload: c.u8.slice(b, b + ix[e + 4]!) };
}

/**
 * A checkpoint's form of the buffer: per destination, the live entries' index
 * words (offsets rebased to 0), piggyback words and payload bytes, copied.
 * Why not one object per message: v8.serialize writes every typed array as a
 * host object (a call back into JS each), so a buffer of tens of thousands of
 * messages cost seconds per checkpoint on a streaming sender; three arrays per
 * destination cost one copy each.
 */
export interface OutPack {
  readonly to: number;
  readonly ix: Uint32Array;
  readonly words: Uint32Array;
  readonly bytes: Uint8Array;
}

/**
 * Every destination's live messages, as a checkpoint keeps them (copies: the
 * logs may change under a pending write), in warm memory (warm.ts) that the
 * caller owns.
 */
export function outPack(qs: readonly OutLog[]): OutPack[] {
  const packs: OutPack[] = [];
  for (const q of qs) {
    let nw = 0;
    let nb = 0;
    const e0 = STRIDE * q.head;
    const e1 = e0 + STRIDE * q.length;
    const src = q.ix;
    for (let e = e0; e < e1; e += STRIDE) {
      nw += src[e + 3]!;
      nb += src[e + 4]!;
    }
    // Warm memory (warm.ts): a checkpoint store that encodes the state at once gives it back.
    const ix = new Uint32Array(takeWarm(4 * (e1 - e0)).buffer, 0, e1 - e0);
    const words = new Uint32Array(takeWarm(4 * nw).buffer, 0, nw);
    const bytes = new Uint8Array(takeWarm(nb).buffer, 0, nb);
    let w = 0;
    let b = 0;
    for (let e = e0, o = 0; e < e1; e += STRIDE, o += STRIDE) {
      const c = q.chunks[src[e + 1]! - q.chunkBase]!;
      const off = src[e + 2]!;
      const len = src[e + 3]!;
      const pn = src[e + 4]!;
      ix[o] = src[e]!;
      ix[o + 1] = w;
      ix[o + 2] = len;
      ix[o + 3] = b;
      ix[o + 4] = pn;
      const u32 = c.u32;
      const cw = pbWordAt(off);
      for (let i = 0; i < len; i++) words[w + i] = u32[cw + i]!;
      const cb = payloadByteAt(off, len);
      if (pn <= 64) {
        const u8 = c.u8;
        for (let i = 0; i < pn; i++) bytes[b + i] = u8[cb + i]!;
      } else bytes.set(c.u8.subarray(cb, cb + pn), b);
      w += len;
      b += pn;
    }
    packs.push({ to: q.to, ix, words, bytes });
  }
  return packs;
}

/**
 * The logs a checkpoint's packs restore (copied again: a checkpoint kept in
 * memory may be restored twice). A destination without a pack (an initial
 * state's `[]`) restores empty.
 */
export function outUnpack(size: number, packs: readonly OutPack[]): OutLog[] {
  const qs: OutLog[] = [];
  for (let i = 0; i < size; i++) qs.push(newOutLog(i));
  for (const p of packs) {
    const q = qs[p.to]!;
    const ix = p.ix;
    for (let e = 0; e < ix.length; e += STRIDE) {
      const w = ix[e + 1]!;
      const b = ix[e + 3]!;
      outPush(q, ix[e]!, p.words.subarray(w, w + ix[e + 2]!), ix[e + 2]!, p.bytes.subarray(b, b + ix[e + 4]!));
    }
  }
  return qs;
}

/**
 * Appends messages to a checkpoint's packs in place (per destination, after
 * the packed ones, in the order given): log/watermark adds the sends it still
 * holds to the buffer core/retransmit put in the checkpoint.
 */
export function outPackAppend(packs: OutPack[], msgs: readonly { readonly to: number; readonly ssn: number; readonly pb: Uint32Array; readonly payload: Uint8Array }[]): void {
  const size = Math.max(packs.length, ...msgs.map((m) => m.to + 1));
  const qs = outUnpack(size, packs);
  for (const m of msgs) outPush(qs[m.to]!, m.ssn, m.pb, m.pb.length, m.payload);
  const again = outPack(qs);
  packs.length = 0;
  packs.push(...again);
}
