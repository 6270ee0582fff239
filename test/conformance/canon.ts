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
import { deserialize } from "node:v8";
import { crc32 } from "../../runtime-core/src/host/crc32.js";

function enc(v: unknown, seen: Set<object>): unknown {
  switch (typeof v) {
    case "number":
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
      return { $unsupported: typeof v };
  }
  if (v === null) return null;
  if (seen.has(v)) return { $cycle: true };
  if (ArrayBuffer.isView(v)) return { [`$${v.constructor.name}`]: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (v instanceof ArrayBuffer) return { $ArrayBuffer: Buffer.from(v).toString("hex") };
  if (v instanceof Date) return { $date: v.getTime() };
  seen.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => enc(x, seen));
    if (v instanceof Map) return { $map: [...v].map(([k, x]) => [enc(k, seen), enc(x, seen)]) };
    if (v instanceof Set) return { $set: [...v].map((x) => enc(x, seen)) };
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) o[k] = enc((v as Record<string, unknown>)[k], seen);
    return o;
  } finally {
    seen.delete(v);
  }
}

/** The canonical rendering of a value, as UTF-8 bytes. */
export function canonicalOf(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(enc(value, new Set())));
}

/** The canonical rendering of v8-serialized bytes. */
export function canonical(v8bytes: Uint8Array): Uint8Array {
  return canonicalOf(deserialize(v8bytes));
}

/** The identity of a message: crc32 of its canonical rendering. */
export function digestOf(v8bytes: Uint8Array): number {
  return crc32(canonical(v8bytes));
}

/** A canonical rendering for a message, shortened. */
export function showCanonical(bytes: Uint8Array, max = 120): string {
  const s = Buffer.from(bytes).toString("utf8");
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}
