/**
 * protocol-lib DetTable (causal logging's per-process determinant table)
 * against the Map it replaced: random sets (in and out of order, below the
 * lowest held rsn, over an existing entry), checkpoint drops and lookups
 * must leave the same entries; iteration gives them in rsn order.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DetTable, type CDet } from "../src/protocol-lib/causal-log.js";

type Op = { kind: "set"; r: number } | { kind: "drop"; upto: number } | { kind: "get"; r: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("set" as const), r: fc.integer({ min: 1, max: 400 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drop" as const), upto: fc.integer({ min: 0, max: 400 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("get" as const), r: fc.integer({ min: -5, max: 420 }) }) },
);

const det = (r: number, ssn: number): CDet => ({ k: 2, r, src: 1, ssn, push: 0, hold: 0 });

describe("protocol-lib DetTable", () => {
  it("holds what a Map<rsn, CDet> would, and iterates it in rsn order", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const t = new DetTable();
        const m = new Map<number, CDet>();
        let n = 0;
        for (const o of ops) {
          if (o.kind === "set") {
            const d = det(o.r, ++n);
            t.set(o.r, d);
            m.set(o.r, d);
          } else if (o.kind === "drop") {
            t.dropUpTo(o.upto);
            for (const r of [...m.keys()]) if (r <= o.upto) m.delete(r);
          } else expect(t.get(o.r)).toBe(m.get(o.r));
          expect(t.size).toBe(m.size);
        }
        const sorted = [...m].sort((a, b) => a[0] - b[0]);
        expect([...t]).toEqual(sorted);
        expect([...t.values()]).toEqual(sorted.map((e) => e[1]));
        // forEachFrom: the same walk from any rsn (below, inside and past the range held).
        for (const from of [-5, 0, 1, ...sorted.map((e) => e[0]), ...sorted.map((e) => e[0] + 1), 10_000]) {
          const got: CDet[] = [];
          t.forEachFrom(from, (d) => got.push(d));
          expect(got).toEqual(sorted.filter((e) => e[0] >= from).map((e) => e[1]));
          for (const upTo of [-1, from, from + 3, 10_000]) {
            const some: CDet[] = [];
            t.forEachFrom(from, (d) => some.push(d), upTo);
            expect(some).toEqual(sorted.filter((e) => e[0] >= from && e[0] <= upTo).map((e) => e[1]));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("starts again from the next rsn once emptied, without the old range's slots", () => {
    const t = new DetTable();
    for (let r = 1; r <= 1000; r++) t.set(r, det(r, r));
    t.dropUpTo(1000);
    expect(t.size).toBe(0);
    t.set(5000, det(5000, 1));
    expect([...t].map((e) => e[0])).toEqual([5000]);
    expect(t.get(4999)).toBeUndefined();
  });
});
