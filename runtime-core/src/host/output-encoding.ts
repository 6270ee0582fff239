/**
 * JSON encoding of output values for `--output FILE`.
 *
 * Plain JSON values (null, booleans, finite numbers, strings, arrays, plain
 * objects) are written as themselves. Values JSON cannot carry use a tagged
 * object with a single `$`-prefixed key:
 *
 *   undefined          {"$undefined":true}
 *   NaN / ±Infinity / -0 {"$number":"NaN" | "Infinity" | "-Infinity" | "-0"}
 *   bigint             {"$bigint":"123"}
 *   Uint8Array, Buffer, other typed arrays, ArrayBuffer
 *                      {"$bytes":"<base64>"}  (the raw bytes of the view)
 *   Date               {"$date":"<ISO 8601>"}
 *   Map                {"$map":[[k,v],...]}
 *   Set                {"$set":[v,...]}
 *   RegExp             {"$regexp":"/src/flags"}
 *   Error              {"$error":{"name":...,"message":...}}
 *   a cycle            {"$cycle":true}
 *
 * The encoding is one-way (for reading and comparing results); an app that
 * writes an object whose own key starts with `$` stays ambiguous.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export function toJsonValue(v: unknown, seen: Set<object> = new Set()): JsonValue {
  switch (typeof v) {
    case "undefined":
      return { $undefined: true };
    case "boolean":
    case "string":
      return v;
    case "number":
      if (Number.isNaN(v)) return { $number: "NaN" };
      if (!Number.isFinite(v)) return { $number: v > 0 ? "Infinity" : "-Infinity" };
      if (Object.is(v, -0)) return { $number: "-0" };
      return v;
    case "bigint":
      return { $bigint: v.toString() };
    case "symbol":
    case "function":
      // v8.serialize rejects these, so they never reach the sink; kept total.
      return { $unsupported: typeof v };
    case "object":
      break;
  }
  if (v === null) return null;
  const o = v as object;
  if (seen.has(o)) return { $cycle: true };
  if (ArrayBuffer.isView(o)) return { $bytes: Buffer.from(o.buffer, o.byteOffset, o.byteLength).toString("base64") };
  if (o instanceof ArrayBuffer) return { $bytes: Buffer.from(o).toString("base64") };
  if (o instanceof Date) return { $date: Number.isNaN(o.getTime()) ? "Invalid Date" : o.toISOString() };
  if (o instanceof RegExp) return { $regexp: String(o) };
  if (o instanceof Error) return { $error: { name: o.name, message: o.message } };
  seen.add(o);
  try {
    if (Array.isArray(o)) return o.map((x) => toJsonValue(x, seen));
    if (o instanceof Map) return { $map: [...o].map(([k, x]) => [toJsonValue(k, seen), toJsonValue(x, seen)]) };
    if (o instanceof Set) return { $set: [...o].map((x) => toJsonValue(x, seen)) };
    const out: { [k: string]: JsonValue } = {};
    for (const k of Object.keys(o)) out[k] = toJsonValue((o as Record<string, unknown>)[k], seen);
    return out;
  } finally {
    seen.delete(o);
  }
}
