/**
 * Canonical digests of application messages, for the `deliver` trace event.
 *
 * v8.serialize is not canonical: it writes an integral number as an int32 or
 * as a double depending on how V8 happens to hold it (a Smi or a heap number,
 * which varies with JIT state and field representations), and a
 * serialize(deserialize(x)) round trip does not normalize that. A CRC over
 * the raw bytes can therefore give equal messages different digests across
 * runs, or a replayed message a different digest from its original. The
 * digest is taken over a tagged JSON rendering of the deserialized value
 * instead: equal exactly when the values are structurally equal (key order
 * included), whatever their v8 encoding.
 *
 * The conformance harness (test/conformance/canon.ts) uses this same
 * rendering, so host digests and the harness's message identities agree.
 */
import { crc32 } from "./crc32.js";

function enc(v: unknown, seen: Set<object>): unknown {
  switch (typeof v) {
    case "number":
      // JSON writes 1 whether v8 held an int32 or a double; -0 and non-finite values need tags.
      return Number.isFinite(v) && !Object.is(v, -0) ? v : { $n: Object.is(v, -0) ? "-0" : String(v) };
    case "bigint":
      return { $bigint: v.toString() };
    case "undefined":
      return { $undefined: true };
    case "string":
    case "boolean":
      return v;
    case "object":
      break;
    default:
      // Not structured-cloneable (functions, symbols): never in a deserialized message.
      return { $unsupported: typeof v };
  }
  if (v === null) return null;
  // Only cycles are marked; a value shared by two fields is rendered twice, as an equal copy would be.
  if (seen.has(v)) return { $cycle: true };
  if (ArrayBuffer.isView(v)) return { [`$${v.constructor.name}`]: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (v instanceof ArrayBuffer) return { $ArrayBuffer: Buffer.from(v).toString("hex") };
  if (v instanceof Date) return { $date: v.getTime() };
  if (v instanceof RegExp) return { $regexp: String(v) };
  if (v instanceof Number || v instanceof String || v instanceof Boolean || v instanceof BigInt) return { $boxed: enc(v.valueOf(), seen) };
  seen.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => enc(x, seen));
    if (v instanceof Map) return { $map: [...v].map(([k, x]) => [enc(k, seen), enc(x, seen)]) };
    if (v instanceof Set) return { $set: [...v].map((x) => enc(x, seen)) };
    if (v instanceof Error) return { $error: { name: v.name, message: v.message } };
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) o[k] = enc((v as Record<string, unknown>)[k], seen);
    return o;
  } finally {
    seen.delete(v);
  }
}

/** The canonical rendering of a (deserialized) value, as text. */
export function canonicalText(value: unknown): string {
  return JSON.stringify(enc(value, new Set())) ?? "undefined";
}

/** The canonical rendering of a (deserialized) value, as UTF-8 bytes. */
export function canonicalBytes(value: unknown): Uint8Array {
  return Buffer.from(canonicalText(value));
}

/** The digest of a deserialized message: CRC-32 of its canonical rendering. */
export function canonicalDigest(value: unknown): number {
  return crc32(canonicalBytes(value));
}
