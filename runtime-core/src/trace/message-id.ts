/**
 * Message ids for the run trace. With --trace, the host prefixes each
 * application payload with a 9-byte tag (0xEE, sender incarnation, send seq)
 * and strips it before the application sees the message. Protocols treat
 * payloads as opaque bytes, so the tag travels through their logs and replays
 * unchanged: a replayed delivery names the send it replays. v8-serialized
 * payloads start with 0xFF, never 0xEE. Without --trace nothing is tagged.
 */

const MARK = 0xee;
const TAG_BYTES = 9;

export function tagPayload(bytes: Uint8Array, incarnation: number, seq: number): Uint8Array {
  const out = new Uint8Array(TAG_BYTES + bytes.byteLength);
  const v = new DataView(out.buffer);
  out[0] = MARK;
  v.setUint32(1, incarnation, true);
  v.setUint32(5, seq, true);
  out.set(bytes, TAG_BYTES);
  return out;
}

export interface UntaggedPayload {
  /** `${from}:${incarnation}:${seq}`, or null for an untagged payload. */
  readonly id: string | null;
  readonly bytes: Uint8Array;
}

export function untagPayload(from: number, bytes: Uint8Array): UntaggedPayload {
  if (bytes.byteLength < TAG_BYTES || bytes[0] !== MARK) return { id: null, bytes };
  const v = new DataView(bytes.buffer, bytes.byteOffset, TAG_BYTES);
  return { id: messageId(from, v.getUint32(1, true), v.getUint32(5, true)), bytes: bytes.subarray(TAG_BYTES) };
}

export function messageId(from: number, incarnation: number, seq: number): string {
  return `${from}:${incarnation}:${seq}`;
}
