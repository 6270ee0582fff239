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
 * The history only grows (a rollback starts a new one), so the arrays just
 * double when full. `histAt` copies, so nothing keeps a view into them.
 */
import type { InMsg } from "./in-msg.js";

/** The deliveries of one history, in rsn order (entry i has rsn i + 1). */
export interface OptHist {
  length: number;
  /** Per entry, 9 numbers: from, ssn, fromIncarnation, arrival, event ts, piggyback start and length (in `words`), payload start and length (in `bytes`). */
  ix: Float64Array;
  words: Uint32Array;
  wordsEnd: number;
  bytes: Uint8Array;
  bytesEnd: number;
}

const HSTRIDE = 9;

export function newOptHist(): OptHist {
  return { length: 0, ix: new Float64Array(HSTRIDE * 64), words: new Uint32Array(512), wordsEnd: 0, bytes: new Uint8Array(1024), bytesEnd: 0 };
}

/** Appends delivery `m` (piggyback and payload copied), which is event `ts` of the history. */
export function histPush(h: OptHist, m: InMsg, ts: number): void {
  const pb = m.pb;
  const payload = m.payload;
  const len = pb.length;
  const pn = payload.byteLength;
  if (HSTRIDE * (h.length + 1) > h.ix.length) {
    const ix = new Float64Array(2 * h.ix.length);
    ix.set(h.ix);
    h.ix = ix;
  }
  if (h.wordsEnd + len > h.words.length) {
    const words = new Uint32Array(Math.max(2 * h.words.length, 2 * (h.wordsEnd + len)));
    words.set(h.words.subarray(0, h.wordsEnd));
    h.words = words;
  }
  if (h.bytesEnd + pn > h.bytes.length) {
    const bytes = new Uint8Array(Math.max(2 * h.bytes.length, 2 * (h.bytesEnd + pn)));
    bytes.set(h.bytes.subarray(0, h.bytesEnd));
    h.bytes = bytes;
  }
  const e = HSTRIDE * h.length;
  const ix = h.ix;
  const w = h.wordsEnd;
  const b = h.bytesEnd;
  ix[e] = m.from;
  ix[e + 1] = m.ssn;
  ix[e + 2] = m.fromIncarnation;
  ix[e + 3] = m.arrival;
  ix[e + 4] = ts;
  ix[e + 5] = w;
  ix[e + 6] = len;
  ix[e + 7] = b;
  ix[e + 8] = pn;
  const words = h.words;
  for (let i = 0; i < len; i++) words[w + i] = pb[i]!;
  const bytes = h.bytes;
  // Small payloads (the common case) copy faster by hand than through set()'s call.
  if (pn <= 64) for (let i = 0; i < pn; i++) bytes[b + i] = payload[i]!;
  else bytes.set(payload, b);
  h.wordsEnd = w + len;
  h.bytesEnd = b + pn;
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
  return h.words[h.ix[HSTRIDE * i + 5]! + x]!;
}

/** Entry i as a message of its own, as delivered: fresh copies of its piggyback and payload. */
export function histAt(h: OptHist, i: number): InMsg {
  const e = HSTRIDE * i;
  const ix = h.ix;
  const w = ix[e + 5]!;
  const b = ix[e + 7]!;
  return { from: ix[e]!, ssn: ix[e + 1]!, fromIncarnation: ix[e + 2]!, pb: h.words.slice(w, w + ix[e + 6]!), payload: h.bytes.slice(b, b + ix[e + 8]!), arrival: ix[e + 3]! };
}

/**
 * A history holding entries `k ..` of `h` (a durable checkpoint covers the
 * first k: no rollback goes below it, so the packed arrays are compacted).
 */
export function histDropPrefix(h: OptHist, k: number): OptHist {
  const out = newOptHist();
  for (let i = k; i < h.length; i++) histPush(out, histAt(h, i), histTs(h, i));
  return out;
}
