/**
 * protocol-lib held (a channel's hold-back store: one slot before a Map) against the
 * Map it replaced, and protocol-lib words (a received piggyback as u32 words) against
 * the view it replaced, including the TCP transport's unaligned views into a
 * larger chunk.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Held } from "../src/protocol-lib/held.js";
import { wordsOf } from "../src/protocol-lib/words.js";

type Op =
  | { kind: "set"; k: number }
  | { kind: "delete"; k: number }
  | { kind: "clear" }
  | { kind: "deleteWhileIterating"; below: number };

// Few keys: a slot emptied while the Map holds keys, then one of those set again, must come up often.
const key = fc.integer({ min: 1, max: 5 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("set" as const), k: key }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("delete" as const), k: key }) },
  { weight: 1, arbitrary: fc.constant({ kind: "clear" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("deleteWhileIterating" as const), below: key }) },
);

/** A held message as the blocks' core/receive holds it (hooks.ts InMsg). */
interface InMsg {
  readonly from: number;
  readonly ssn: number;
  readonly fromIncarnation: number;
  readonly pb: Uint32Array;
  readonly payload: Uint8Array;
  readonly arrival: number;
}

function msg(k: number, n: number): InMsg {
  return { from: 0, ssn: k, fromIncarnation: 0, pb: new Uint32Array([k]), payload: new Uint8Array(0), arrival: n };
}

/** Entries as a set (the order differs from a Map's: slot first). */
function sorted(it: Iterable<[number, InMsg]>): [number, number][] {
  return [...it].map(([k, m]): [number, number] => [k, m.arrival]).sort((a, b) => a[0] - b[0]);
}

describe("protocol-lib held", () => {
  it("behaves like a Map<number, InMsg> under sets, deletes, clears and deletes during iteration", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const h = new Held<InMsg>();
        const model = new Map<number, InMsg>();
        let n = 0;
        for (const o of ops) {
          if (o.kind === "set") {
            const m = msg(o.k, ++n);
            expect(h.set(o.k, m)).toBe(h);
            model.set(o.k, m);
          } else if (o.kind === "delete") {
            expect(h.delete(o.k)).toBe(model.delete(o.k));
          } else if (o.kind === "clear") {
            h.clear();
            model.clear();
          } else {
            // core/receive's onRestore and optimistic/orphan delete while iterating.
            for (const k of h.keys()) if (k <= o.below) h.delete(k);
            for (const k of [...model.keys()]) if (k <= o.below) model.delete(k);
          }
          expect(h.size).toBe(model.size);
          for (let k = 0; k <= 6; k++) {
            expect(h.has(k)).toBe(model.has(k));
            expect(h.get(k)).toBe(model.get(k));
          }
          expect(sorted(h)).toEqual(sorted(model));
          expect(sorted(h.entries())).toEqual(sorted(model.entries()));
          expect([...h.keys()].sort((a, b) => a - b)).toEqual([...model.keys()].sort((a, b) => a - b));
          expect([...h.values()].map((m) => m.arrival).sort((a, b) => a - b)).toEqual([...model.values()].map((m) => m.arrival).sort((a, b) => a - b));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("does not hold a key twice when the slot is free and the Map has it", () => {
    const h = new Held<InMsg>();
    h.set(1, msg(1, 1));
    h.set(2, msg(2, 2)); // the slot is taken: into the Map
    h.delete(1); // the slot is free, 2 is still in the Map
    h.set(2, msg(2, 3));
    expect(h.size).toBe(1);
    expect([...h.keys()]).toEqual([2]);
    expect(h.get(2)!.arrival).toBe(3);
    expect(h.delete(2)).toBe(true);
    expect(h.has(2)).toBe(false);
  });

  it("keeps an in-order channel in the slot (no Map is created)", () => {
    const h = new Held<InMsg>();
    for (let k = 1; k <= 100; k++) {
      h.set(k, msg(k, k));
      expect(h.get(k)!.ssn).toBe(k);
      h.delete(k);
    }
    expect((h as unknown as { more: unknown }).more).toBeNull();
  });
});

describe("protocol-lib words", () => {
  it("reads the words a sender wrote, from aligned and unaligned views into a larger chunk, short and long", () => {
    const len = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1000, max: 1100 }));
    fc.assert(
      fc.property(len.chain((n) => fc.array(fc.nat({ max: 0xffffffff }), { minLength: n, maxLength: n })), fc.integer({ min: 0, max: 7 }), (words, lead) => {
        const sent = new Uint8Array(new Uint32Array(words).buffer);
        // Junk before and after, as the TCP decoder's Buffer views into a socket chunk have.
        const chunk = new Uint8Array(lead + sent.byteLength + 5).fill(0xee);
        chunk.set(sent, lead);
        const raw = chunk.subarray(lead, lead + sent.byteLength);
        const got = wordsOf(raw);
        expect(Array.from(got)).toEqual(words);
        // A copy must not alias the chunk: later writes to the chunk do not change what was read.
        if (words.length > 0 && words.length <= 1024) {
          chunk.fill(0);
          expect(Array.from(got)).toEqual(words);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("gives a piggyback longer than 64 bytes a range of a shared slab, and no two held ones overlap", () => {
    const held: { got: Uint32Array; words: number[] }[] = [];
    // 17 to 60 words each: well over one 64 KiB slab in all, so slabs fill and are replaced meanwhile.
    for (let k = 0; k < 2000; k++) {
      const words = Array.from({ length: 17 + (k % 44) }, (_, i) => (k * 7919 + i) >>> 0);
      const got = wordsOf(new Uint8Array(new Uint32Array(words).buffer));
      held.push({ got, words });
    }
    for (const { got, words } of held) expect(Array.from(got)).toEqual(words);
    // Ranges of slabs, not arrays of their own (V8 would give each its own malloc'd memory).
    expect(new Set(held.map((h) => h.got.buffer)).size).toBeLessThan(held.length / 100);
    expect(held.every((h) => h.got.buffer.byteLength === 64 * 1024)).toBe(true);
    // Up to 16 words: an array of its own, which V8 keeps in its heap.
    const short = wordsOf(new Uint8Array(new Uint32Array([1, 2, 3]).buffer));
    expect(short.buffer.byteLength).toBe(12);
  });
});
