/**
 * protocol-lib hist (the optimistic history in pooled chunks) against a plain
 * array of deliveries: random deliveries (piggybacks and payloads of any
 * size, some larger than a chunk) and checkpoint truncations must leave
 * exactly the model's entries, word for word and byte for byte, and entries
 * materialized before a truncation must not change when its chunks are
 * reused.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { histAt, histDropPrefix, histFrom, histPb, histPush, histSsn, histTs, newOptHist, type OptHist } from "../src/protocol-lib/hist.js";
import type { InMsg } from "../src/protocol-lib/in-msg.js";

interface Entry {
  from: number;
  ssn: number;
  inc: number;
  arrival: number;
  ts: number;
  pb: number[];
  payload: number[];
}

type Op = { kind: "deliver"; pbLen: number; payLen: number; seed: number } | { kind: "truncate"; keep: number } | { kind: "peek" };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("deliver" as const), pbLen: fc.integer({ min: 1, max: 30 }), payLen: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 2000, max: 9000 }), fc.integer({ min: 70_000, max: 90_000 })), seed: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), keep: fc.integer({ min: 0, max: 20 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "peek" as const }) },
);

function check(h: OptHist, model: Entry[]): void {
  expect(h.length).toBe(model.length);
  model.forEach((m, i) => {
    expect(histFrom(h, i)).toBe(m.from);
    expect(histSsn(h, i)).toBe(m.ssn);
    expect(histTs(h, i)).toBe(m.ts);
    expect(histPb(h, i, m.pb.length - 1)).toBe(m.pb[m.pb.length - 1]);
    const a = histAt(h, i);
    expect({ from: a.from, ssn: a.ssn, inc: a.fromIncarnation, arrival: a.arrival }).toEqual({ from: m.from, ssn: m.ssn, inc: m.inc, arrival: m.arrival });
    expect([...a.pb]).toEqual(m.pb);
    expect(Buffer.compare(a.payload, Uint8Array.from(m.payload))).toBe(0);
  });
}

describe("protocol-lib hist", () => {
  it("behaves like an array of deliveries under pushes and checkpoint truncations", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        let h = newOptHist();
        let model: Entry[] = [];
        let n = 0;
        const peeked: { m: InMsg; pb: number[]; payload: number[] }[] = [];
        for (const o of ops) {
          if (o.kind === "deliver") {
            n++;
            const pb = Array.from({ length: o.pbLen }, (_, i) => (o.seed * 31 + i * 7 + n) >>> 0);
            const payload = Array.from({ length: o.payLen }, (_, i) => (o.seed + i * 13 + n) & 255);
            const m: InMsg = { from: n % 5, ssn: n, fromIncarnation: n % 3, pb: Uint32Array.from(pb), payload: Uint8Array.from(payload), arrival: 2 * n };
            histPush(h, m, 10 * n);
            // The caller may reuse the message's buffers once push returns.
            m.pb.fill(0);
            m.payload.fill(0);
            model.push({ from: n % 5, ssn: n, inc: n % 3, arrival: 2 * n, ts: 10 * n, pb, payload });
          } else if (o.kind === "truncate") {
            const k = Math.max(0, model.length - o.keep);
            const old = h;
            h = histDropPrefix(h, k);
            model = model.slice(k);
            // The old history is consumed: empty, not a view of chunks the pool hands out again.
            expect(old.length).toBe(0);
          } else if (h.length > 0) {
            const m = histAt(h, h.length - 1);
            peeked.push({ m, pb: [...m.pb], payload: [...m.payload] });
          }
        }
        check(h, model);
        for (const p of peeked) {
          expect([...p.m.pb]).toEqual(p.pb);
          expect([...p.m.payload]).toEqual(p.payload);
        }
      }),
      { numRuns: 60 },
    );
  });
});
