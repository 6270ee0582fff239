/**
 * Canonical bytes for values, for comparing and identifying them.
 *
 * v8.serialize is not canonical: it writes an integral number as an int32 or
 * a double depending on how V8 happens to hold it (a Smi or a heap number,
 * which varies with JIT state), and a deserialize round trip does not
 * normalize that. So equal outputs or states from two runs, or a replayed
 * send and its original, can differ in v8 bytes. Everything here compares a
 * tagged JSON rendering instead: readable in violation messages, and equal
 * exactly when the values are structurally equal (key order included).
 */
import { untagPayload } from "../../runtime-core/src/trace/message-id.js";
import { canonicalBytes, canonicalDigest } from "../../runtime-core/src/host/canonical.js";
import { decodeValue } from "../../runtime-core/src/host/value-codec.js";

/**
 * The canonical rendering of a value, as UTF-8 bytes: the host's own
 * (runtime-core/src/host/canonical.ts), so the harness's identities and the
 * host's `deliver` trace digests are one function.
 */
export const canonicalOf: (value: unknown) => Uint8Array = canonicalBytes;

/** The canonical rendering of encoded bytes (the host's value codec, or v8.serialize's). */
export function canonical(bytes: Uint8Array): Uint8Array {
  return canonicalOf(decodeValue(bytes));
}

/** The identity of a message: crc32 of its canonical rendering. */
export function digestOf(bytes: Uint8Array): number {
  // A traced run (`npm run campaign -- --trace FILE`) tags application payloads with their message id.
  return canonicalDigest(decodeValue(untagPayload(0, bytes).bytes));
}

/** A canonical rendering for a message, shortened. */
export function showCanonical(bytes: Uint8Array, max = 120): string {
  const s = Buffer.from(bytes).toString("utf8");
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}
