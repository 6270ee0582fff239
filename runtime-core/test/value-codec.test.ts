/**
 * host/value-codec.ts: application values round-trip exactly as structured
 * clone (v8.serialize) gives them, whichever path encodes them; the fast
 * encoding is canonical; corrupt bytes are a ValueDecodeError, never a hang
 * or a crash.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { inspect, isDeepStrictEqual } from "node:util";
import { deserialize, serialize } from "node:v8";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeValue, encodeAppState, encodeValue, FAST, ValueDecodeError } from "../src/host/value-codec.js";

const viaV8 = (v: unknown): unknown => deserialize(serialize(v));
const roundTrip = (v: unknown): unknown => decodeValue(encodeValue(v));
/** Equal as structured clones; an invalid Date is never deep-equal to itself (NaN time), so the rendering decides then. */
const sameClone = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b) || inspect(a, { depth: Infinity }) === inspect(b, { depth: Infinity });
const isFast = (v: unknown): boolean => encodeValue(v)[0] === FAST;

const anything = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
  maxDepth: 4,
});

describe("value codec", () => {
  it("decodes to what structured clone gives, for any value (fast path or v8 fallback)", () => {
    fc.assert(
      fc.property(anything, (v) => {
        expect(sameClone(roundTrip(v), viaV8(v))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("plain data takes the fast path, and its bytes are canonical (equal values, equal bytes)", () => {
    const plain = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.constantFrom(undefined, null, true, false, 0, -0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 2 ** 31 - 1),
        fc.integer(),
        fc.double(),
        fc.string({ unit: "grapheme" }),
        fc.array(tie("value"), { maxLength: 5 }),
        fc.dictionary(fc.string(), tie("value"), { maxKeys: 5, noNullPrototype: true }),
        fc.float64Array({ maxLength: 8 }),
        fc.int32Array({ maxLength: 8 }),
        fc.uint8Array({ maxLength: 8 }),
      ),
    })).value;
    fc.assert(
      fc.property(plain, (v) => {
        expect(isFast(v)).toBe(true);
        const back = roundTrip(v);
        expect(isDeepStrictEqual(back, viaV8(v))).toBe(true);
        // A copy built another way (here: v8's clone) encodes to the same bytes.
        expect(Buffer.compare(encodeValue(viaV8(v)), encodeValue(v))).toBe(0);
        // A checkpoint's state is the same encoding, in memory from the given allocator.
        let asked = 0;
        const state = encodeAppState(v, (n) => {
          asked = n;
          return Buffer.alloc(n);
        });
        expect(asked).toBe(state.length);
        expect(Buffer.compare(state, encodeValue(v))).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it("an integral double and the same int32 encode alike (v8.serialize may not)", () => {
    const asDouble = { x: 1.5 - 0.5 };
    expect(encodeValue(asDouble)).toEqual(encodeValue({ x: 1 }));
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
    expect(Number.isNaN(roundTrip(NaN))).toBe(true);
  });

  it("falls back to v8 for what the fast path cannot keep exactly", () => {
    const shared = { n: 1 };
    const twice = roundTrip({ a: shared, b: shared }) as { a: object; b: object };
    expect(twice.a).toBe(twice.b); // identity of a value reachable twice
    const cyc: { self?: unknown } = {};
    cyc.self = cyc;
    const c = roundTrip(cyc) as { self: unknown };
    expect(c.self).toBe(c);
    expect(roundTrip("a\ud800b")).toBe("a\ud800b"); // a lone surrogate
    const holes = roundTrip([1, , 3]) as unknown[]; // eslint-disable-line no-sparse-arrays
    expect(1 in holes).toBe(false);
    const named = Object.assign([1, 2], { tag: "x" });
    expect((roundTrip(named) as unknown as { tag: string }).tag).toBe("x");
    expect(Buffer.isBuffer(roundTrip(Buffer.from("hi")))).toBe(true);
    expect(roundTrip(new Map([[1, { a: 2 }]]))).toEqual(new Map([[1, { a: 2 }]]));
    expect(roundTrip(10n ** 30n)).toBe(10n ** 30n);
    for (const v of [{ a: shared, b: shared }, cyc, "a\ud800b", [1, , 3], named, Buffer.from("hi"), new Map(), 1n]) expect(isFast(v)).toBe(false); // eslint-disable-line no-sparse-arrays
  });

  it("keeps __proto__ as an own key, and a class instance becomes a plain object (as structured clone does)", () => {
    const o = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as Record<string, unknown>;
    const back = roundTrip(o) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(["__proto__", "y"]);
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    const p = roundTrip(new Point(1, 2));
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
    expect(p).toEqual({ x: 1, y: 2 });
  });

  it("a typed array comes back as its own copy of just the viewed bytes", () => {
    const big = new Float64Array([1, 2, 3, 4]);
    const view = big.subarray(1, 3);
    const back = roundTrip(view) as Float64Array;
    expect(back).toBeInstanceOf(Float64Array);
    expect([...back]).toEqual([2, 3]);
    expect(back.buffer.byteLength).toBe(16);
  });

  it("refuses what structured clone refuses, with v8's error", () => {
    for (const bad of [() => 1, Promise.resolve(1), { f: Symbol("s") }]) {
      expect(() => encodeValue(bad)).toThrow(/could not be cloned/);
    }
    // The scratch state is clean after a refusal.
    expect(roundTrip({ ok: [1, "two"] })).toEqual({ ok: [1, "two"] });
  });

  it("corrupt or truncated bytes are a ValueDecodeError, never a hang, a crash or a huge allocation", () => {
    const good = encodeValue({ a: [1, 2.5, "three", new Float64Array([4])], b: { c: null } });
    for (let n = 1; n < good.length; n++) expect(() => decodeValue(good.subarray(0, n))).toThrow(ValueDecodeError);
    expect(() => decodeValue(Buffer.concat([good, Buffer.from([0])]))).toThrow(/1 bytes after the value/);
    // A length field of 2^28 elements with nothing behind it.
    expect(() => decodeValue(Buffer.from([FAST, 7, 0x80, 0x80, 0x80, 0x80, 0x01]))).toThrow(ValueDecodeError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (tail) => {
        try {
          decodeValue(Buffer.concat([Buffer.from([FAST]), tail]));
        } catch (e) {
          expect(e).toBeInstanceOf(ValueDecodeError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("deep nesting goes to v8 when encoding and is refused when decoding", () => {
    let deep: unknown = 0;
    for (let i = 0; i < 600; i++) deep = [deep];
    expect(isFast(deep)).toBe(false);
    expect(isDeepStrictEqual(roundTrip(deep), viaV8(deep))).toBe(true);
    // 600 nested one-element arrays, then undefined.
    const nested = Buffer.alloc(1 + 600 * 2 + 1);
    nested[0] = FAST;
    for (let i = 0; i < 600; i++) {
      nested[1 + 2 * i] = 7;
      nested[2 + 2 * i] = 1;
    }
    expect(() => decodeValue(nested)).toThrow(/nested deeper than/);
  });

  // Optimized code that has read a state's arrays of objects converts every array of doubles it reads
  // afterwards to generic elements (the application's own array, a heap number per element): a
  // checkpoint would slow every later send of the application down. Checked in V8 itself, on the
  // built module, with a control that reads the state on the message path and must see the conversion.
  it("encoding a checkpoint's state does not change how the application's arrays of doubles are held", () => {
    const mod = fileURLToPath(new URL("../dist/host/value-codec.js", import.meta.url));
    const probe = (stateVia: "encodeAppState" | "encodeValue"): string =>
      execFileSync(
        process.execPath,
        [
          "--allow-natives-syntax",
          "--input-type=module",
          "-e",
          `
          const m = await import(${JSON.stringify(mod)});
          const msg = () => ({ it: 1, side: "below", row: Array.from(new Float64Array(64).fill(0.5)) });
          for (let i = 0; i < 30000; i++) m.encodeValue(msg());
          const state = { residuals: [null, null, 0.5], pending: { 7: { above: [0.25, 0.5] } }, rows: [[1, "x"], [{ a: 1 }]] };
          for (let i = 0; i < 50; i++) m.${stateVia}(state);
          for (let i = 0; i < 30000; i++) m.encodeValue(msg());
          const last = msg();
          m.encodeValue(last);
          process.stdout.write(String(%HasDoubleElements(last.row)));
          `,
        ],
        { encoding: "utf8" },
      );
    expect(probe("encodeValue")).toBe("false");
    expect(probe("encodeAppState")).toBe("true");
  });
});
