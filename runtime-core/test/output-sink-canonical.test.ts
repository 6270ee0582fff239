/**
 * The idempotent sink judges outputs by value: the same value written by a
 * recovering process in other v8 bytes (an int32 vs a double, which depends
 * on the process's hidden classes) is a duplicate, not a retraction. Found by
 * the real-process tests: the writer app under fig4a-sby recovered from a
 * checkpoint and re-released an identical output as a double.
 */
import { serialize } from "node:v8";
import { describe, expect, it } from "vitest";
import { RetractionError } from "../src/host/errors.js";
import { IdempotentSink } from "../src/host/output-sink.js";

/** `{ n }` encoded with n as a double: the field's shape first held a non-integer. */
function asDouble(n: number): Uint8Array {
  const o = { n: 0.5 };
  o.n = n;
  return serialize(o);
}

describe("IdempotentSink compares values, not bytes", () => {
  it("an int32 and a double encoding of the same output are one output", () => {
    const int = serialize({ n: 5 });
    const dbl = asDouble(5);
    expect(Buffer.from(int).equals(Buffer.from(dbl))).toBe(false); // the premise: other bytes
    const s = new IdempotentSink();
    expect(s.accept(0, 1, int)).toBe("new");
    expect(s.accept(0, 1, dbl)).toBe("duplicate");
  });

  it("a different value under the same seq is still a retraction", () => {
    const s = new IdempotentSink();
    s.accept(0, 1, serialize({ n: 5 }));
    expect(() => s.accept(0, 1, asDouble(6))).toThrow(RetractionError);
    expect(() => s.accept(0, 1, serialize({ n: 5, extra: true }))).toThrow(RetractionError);
  });

  it("bytes that are not a v8 value are compared as bytes", () => {
    const s = new IdempotentSink();
    expect(s.accept(1, 0, new Uint8Array([0xde, 0xad]))).toBe("new");
    expect(s.accept(1, 0, new Uint8Array([0xde, 0xad]))).toBe("duplicate");
    expect(() => s.accept(1, 0, new Uint8Array([0xde, 0xae]))).toThrow(RetractionError);
  });
});
