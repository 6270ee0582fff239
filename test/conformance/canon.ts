/**
 * Canonical bytes for values. v8.serialize writes an integral number as an
 * int32 or as a double depending on how V8 happened to represent it (a Smi
 * or a heap number, which varies with JIT state), so equal values can have
 * different bytes across runs, and a replayed send can differ in bytes from
 * the original. A round trip through deserialize normalizes that (integral
 * values come back as Smis), so every digest and comparison here uses it.
 */
import { deserialize, serialize } from "node:v8";
import { crc32 } from "../../runtime-core/src/host/crc32.js";

export function canonical(bytes: Uint8Array): Uint8Array {
  return serialize(deserialize(bytes));
}

export function canonicalOf(value: unknown): Uint8Array {
  return canonical(serialize(value));
}

/** The identity of a message: crc32 of its canonical bytes. */
export function digestOf(bytes: Uint8Array): number {
  return crc32(canonical(bytes));
}
