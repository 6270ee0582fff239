/**
 * The retransmission buffer's storage, for generated protocols (blocks
 * core/transmit, core/retransmit, ckpt-only/rounds, optimistic/orphan,
 * log/send-log, log/watermark, collect/stable-log and causal/gather import it
 * from `@egida/runtime-core/protocol-lib`): one packed log per destination
 * instead of one `OutMsg` object per message. Nothing here depends on the
 * protocol's parameters, so every generated package imports this one copy.
 *
 * Why: the buffer holds every message sent since the destination last
 * reported stability (a whole checkpoint interval). Kept as objects, each
 * message was an entry object, a piggyback typed array and the payload Buffer
 * (an external ArrayBuffer), all promoted to old space and traced or swept by
 * every GC: measured at ~4-8 µs per message on the overhead bench, more than
 * all the rest of a protocol's per-message work (docs/performance.md). Packed,
 * a message is 5 index words and a copy of its piggyback words and payload
 * bytes in three typed arrays per destination, so the GC sees no new object.
 *
 * Entries are appended in ssn order and dropped from the front (stability is
 * a prefix), so the arrays are compacted or doubled only when full: amortized
 * O(1). Nothing outside this file keeps a view into them (`outAt` copies), so
 * compacting in place is safe.
 */

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
  /** Column index of the first live entry. */
  head: number;
  /** Per entry, 5 words: ssn, piggyback start and length (in `words`), payload start and length (in `bytes`). */
  ix: Uint32Array;
  words: Uint32Array;
  wordsEnd: number;
  bytes: Uint8Array;
  bytesEnd: number;
}

const STRIDE = 5;

export function newOutLog(to: number): OutLog {
  return { to, length: 0, head: 0, ix: new Uint32Array(STRIDE * 64), words: new Uint32Array(256), wordsEnd: 0, bytes: new Uint8Array(1024), bytesEnd: 0 };
}

/** Appends a message: `len` piggyback words from `pb` (copied) and the payload bytes (copied). */
export function outPush(q: OutLog, ssn: number, pb: Uint32Array, len: number, payload: Uint8Array): void {
  const pn = payload.byteLength;
  if (STRIDE * (q.head + q.length + 1) > q.ix.length || q.wordsEnd + len > q.words.length || q.bytesEnd + pn > q.bytes.length) {
    outMakeRoom(q, len, pn);
  }
  const e = STRIDE * (q.head + q.length);
  const ix = q.ix;
  const w = q.wordsEnd;
  const b = q.bytesEnd;
  ix[e] = ssn;
  ix[e + 1] = w;
  ix[e + 2] = len;
  ix[e + 3] = b;
  ix[e + 4] = pn;
  const words = q.words;
  for (let i = 0; i < len; i++) words[w + i] = pb[i]!;
  const bytes = q.bytes;
  // Small payloads (the common case) copy faster by hand than through set()'s call.
  if (pn <= 64) for (let i = 0; i < pn; i++) bytes[b + i] = payload[i]!;
  else bytes.set(payload, b);
  q.wordsEnd = w + len;
  q.bytesEnd = b + pn;
  q.length++;
}

/** Entries moved to the front of their arrays: the first `words` index words of `ix` point `w0` words and `b0` bytes earlier. */
function rebase(ix: Uint32Array, words: number, w0: number, b0: number): void {
  for (let e = 0; e < words; e += STRIDE) {
    ix[e + 1] = ix[e + 1]! - w0;
    ix[e + 3] = ix[e + 3]! - b0;
  }
}

/** Room for one more entry of `len` words and `pn` bytes: compact to the front, doubling what is too small. */
function outMakeRoom(q: OutLog, len: number, pn: number): void {
  const e0 = STRIDE * q.head;
  const w0 = q.length > 0 ? q.ix[e0 + 1]! : q.wordsEnd;
  const b0 = q.length > 0 ? q.ix[e0 + 3]! : q.bytesEnd;
  const liveE = STRIDE * q.length;
  const liveW = q.wordsEnd - w0;
  const liveB = q.bytesEnd - b0;
  const grow = (have: number, live: number, need: number): number => (live + need <= have >>> 1 ? have : Math.max(2 * have, 2 * (live + need)));
  // An array that is big enough is compacted in place (copyWithin): a fresh one per compaction was a
  // zeroed allocation, its page faults and its share of GC for every interval's worth of messages.
  // (Safe: nothing keeps a view into these arrays; outAt, outPack and outUnpack copy.)
  const nE = grow(q.ix.length, liveE, STRIDE);
  let ix = q.ix;
  if (nE === ix.length) ix.copyWithin(0, e0, e0 + liveE);
  else (ix = new Uint32Array(nE)).set(q.ix.subarray(e0, e0 + liveE));
  rebase(ix, liveE, w0, b0);
  const nW = grow(q.words.length, liveW, len);
  let words = q.words;
  if (nW === words.length) words.copyWithin(0, w0, q.wordsEnd);
  else (words = new Uint32Array(nW)).set(q.words.subarray(w0, q.wordsEnd));
  const nB = grow(q.bytes.length, liveB, pn);
  let bytes = q.bytes;
  if (nB === bytes.length) bytes.copyWithin(0, b0, q.bytesEnd);
  else (bytes = new Uint8Array(nB)).set(q.bytes.subarray(b0, q.bytesEnd));
  q.ix = ix;
  q.words = words;
  q.bytes = bytes;
  q.head = 0;
  q.wordsEnd = liveW;
  q.bytesEnd = liveB;
}

/** Drops every entry with ssn ≤ k (stable at the destination). */
export function outDrop(q: OutLog, k: number): void {
  while (q.length > 0 && q.ix[STRIDE * q.head]! <= k) {
    q.head++;
    q.length--;
  }
  if (q.length === 0) {
    q.head = 0;
    q.wordsEnd = 0;
    q.bytesEnd = 0;
  }
}

/** Live entry i as a message of its own: fresh copies, so the log may be compacted under it. */
export function outAt(q: OutLog, i: number): OutMsg {
  const e = STRIDE * (q.head + i);
  const ix = q.ix;
  const w = ix[e + 1]!;
  const b = ix[e + 3]!;
  return { to: q.to, ssn: ix[e]!, pb: q.words.slice(w, w + ix[e + 2]!), payload: q.bytes.slice(b, b + ix[e + 4]!) };
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

/** Every destination's live messages, as a checkpoint keeps them (fresh copies: the logs may change under a pending write). */
export function outPack(qs: readonly OutLog[]): OutPack[] {
  const packs: OutPack[] = [];
  for (const q of qs) {
    const e0 = STRIDE * q.head;
    const w0 = q.length > 0 ? q.ix[e0 + 1]! : q.wordsEnd;
    const b0 = q.length > 0 ? q.ix[e0 + 3]! : q.bytesEnd;
    const ix = q.ix.slice(e0, e0 + STRIDE * q.length);
    rebase(ix, ix.length, w0, b0);
    packs.push({ to: q.to, ix, words: q.words.slice(w0, q.wordsEnd), bytes: q.bytes.slice(b0, q.bytesEnd) });
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
    q.ix = p.ix.slice();
    q.words = p.words.slice();
    q.bytes = p.bytes.slice();
    q.length = p.ix.length / STRIDE;
    q.head = 0;
    q.wordsEnd = p.words.length;
    q.bytesEnd = p.bytes.length;
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
