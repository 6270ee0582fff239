/**
 * protocol-lib out-log (the packed retransmission buffer) against the plain model it
 * replaced, an array of messages per destination: random pushes (piggybacks
 * and payloads of any size, some spanning several chunks, so chunks fill,
 * are dropped, reused from the pool and allocated oversized), prefix drops
 * and checkpoint round trips must leave exactly the model's messages, byte
 * for byte, and materialized messages must not change when the log later
 * reuses its chunks.
 */
import fc from "fast-check";
import { serialize, deserialize } from "node:v8";
import { describe, expect, it } from "vitest";
import { newOutLog, outAt, outDrop, outPack, outPackAppend, outPush, outUnpack, type OutLog, type OutMsg, type OutPack } from "../src/protocol-lib/out-log.js";

type Op = { kind: "push"; pbLen: number; payLen: number; seed: number } | { kind: "drop"; back: number } | { kind: "ckpt" } | { kind: "peek" };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("push" as const), pbLen: fc.integer({ min: 1, max: 40 }), payLen: fc.oneof(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 900, max: 5000 })), seed: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("drop" as const), back: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "ckpt" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "peek" as const }) },
);

function contents(q: OutLog): { ssn: number; pb: number[]; payload: number[] }[] {
  const out = [];
  for (let i = 0; i < q.length; i++) {
    const m = outAt(q, i);
    expect(m.to).toBe(q.to);
    out.push({ ssn: m.ssn, pb: [...m.pb], payload: [...m.payload] });
  }
  return out;
}

describe("protocol-lib out-log", () => {
  it("behaves like an array of messages under pushes, prefix drops and checkpoint round trips", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        let q = newOutLog(3);
        let model: { ssn: number; pb: number[]; payload: number[] }[] = [];
        let ssn = 0;
        const peeked: { m: OutMsg; pb: number[]; payload: number[] }[] = [];
        const scratch = new Uint32Array(64);
        for (const o of ops) {
          if (o.kind === "push") {
            ssn++;
            const pb: number[] = [];
            for (let i = 0; i < o.pbLen; i++) pb.push((o.seed * 31 + i * 7 + ssn) >>> 0);
            const payload: number[] = [];
            for (let i = 0; i < o.payLen; i++) payload.push((o.seed + i * 13 + ssn) & 255);
            scratch.fill(0xdeadbeef);
            scratch.set(pb);
            const buf = Uint8Array.from(payload);
            outPush(q, ssn, scratch, o.pbLen, buf);
            // The caller may reuse both buffers once push returns (core/transmit reuses s.pbw).
            scratch.fill(0);
            buf.fill(0);
            model.push({ ssn, pb, payload });
          } else if (o.kind === "drop") {
            const k = Math.max(0, ssn - o.back);
            outDrop(q, k);
            model = model.filter((m) => m.ssn > k);
          } else if (o.kind === "ckpt") {
            const pack = outPack([q]);
            const bytes = serialize({ "core.outq": pack });
            q = outUnpack(4, (deserialize(bytes) as Record<string, OutPack[]>)["core.outq"]!)[3]!;
            // A checkpoint kept in memory restores twice: the first restore's log must not share its arrays.
            const again = outUnpack(4, pack)[3]!;
            outDrop(again, 0);
            outPush(again, 1 << 30, scratch, 1, new Uint8Array([1]));
            expect(contents(outUnpack(4, pack)[3]!)).toEqual(model);
          } else if (q.length > 0) {
            const m = outAt(q, q.length - 1);
            peeked.push({ m, pb: [...m.pb], payload: [...m.payload] });
          }
          expect(q.length).toBe(model.length);
        }
        expect(contents(q)).toEqual(model);
        // Materialized messages are copies: later compaction or reuse never changed them.
        for (const p of peeked) {
          expect([...p.m.pb]).toEqual(p.pb);
          expect([...p.m.payload]).toEqual(p.payload);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("appends held sends to a checkpoint's packs after the packed ones, per destination", () => {
    const qs = [newOutLog(0), newOutLog(1)];
    outPush(qs[1]!, 1, new Uint32Array([7]), 1, new Uint8Array([1]));
    const packs = outPack(qs);
    outPackAppend(packs, [
      { to: 1, ssn: 2, pb: new Uint32Array([8, 9]), payload: new Uint8Array([2, 2]) },
      { to: 0, ssn: 1, pb: new Uint32Array([5]), payload: new Uint8Array([]) },
    ]);
    const back = outUnpack(2, deserialize(serialize(packs)) as OutPack[]);
    expect(contents(back[0]!)).toEqual([{ ssn: 1, pb: [5], payload: [] }]);
    expect(contents(back[1]!)).toEqual([
      { ssn: 1, pb: [7], payload: [1] },
      { ssn: 2, pb: [8, 9], payload: [2, 2] },
    ]);
    // The live logs did not change.
    expect(qs[0]!.length).toBe(0);
    expect(qs[1]!.length).toBe(1);
  });

  it("keeps a checkpoint's packed copy intact while the log reuses its dropped chunks", () => {
    const q = newOutLog(1);
    const pb = new Uint32Array([0, 5]);
    const pay = (s: number): Uint8Array => new Uint8Array(1000).fill(s & 255);
    // 200 messages of ~1 KiB: several 64 KiB chunks.
    for (let s = 1; s <= 200; s++) outPush(q, s, pb, 2, pay(s));
    const chunksBefore = q.chunks.length;
    expect(chunksBefore).toBeGreaterThan(2);
    const old = q.chunks.slice(0, -1);
    // 65 messages a chunk: 196-200 are all in the last one.
    outDrop(q, 195);
    const saved = outPack([newOutLog(0), q]);
    // The dropped chunks went back to the pool; the next pushes take them and overwrite them.
    expect(q.chunks.length).toBe(1);
    let s = 201;
    for (let i = 0; i < 200; i++) outPush(q, s, pb, 2, pay(s++));
    expect(outAt(q, 0).ssn).toBe(196);
    expect(outAt(q, q.length - 1).ssn).toBe(s - 1);
    expect([...outAt(q, q.length - 1).payload]).toEqual([...pay(s - 1)]);
    expect(q.chunks.filter((c) => old.includes(c)).length).toBe(old.length);
    const back = outUnpack(2, deserialize(serialize(saved)) as OutPack[]);
    expect(back[0]!.length).toBe(0);
    const r = back[1]!;
    expect(r.length).toBe(5);
    for (let i = 0; i < 5; i++) {
      const m = outAt(r, i);
      expect(m.ssn).toBe(196 + i);
      expect([...m.pb]).toEqual([0, 5]);
      expect([...m.payload]).toEqual([...pay(196 + i)]);
    }
  });

  it("stores a message larger than a chunk in a chunk of its own", () => {
    const q = newOutLog(2);
    const big = new Uint8Array(200_000).map((_, i) => i & 255);
    outPush(q, 1, new Uint32Array([3]), 1, new Uint8Array([1, 2, 3]));
    outPush(q, 2, new Uint32Array([4, 4]), 2, big);
    outPush(q, 3, new Uint32Array([5]), 1, new Uint8Array([9]));
    expect(q.chunks.length).toBe(3);
    expect(Buffer.compare(outAt(q, 1).payload, big)).toBe(0);
    expect([...outAt(q, 2).payload]).toEqual([9]);
    outDrop(q, 2);
    expect(q.chunks.length).toBe(1);
    expect([...outAt(q, 0).pb]).toEqual([5]);
  });

  it("drops only a prefix and resets the arrays once empty", () => {
    const q = newOutLog(0);
    const pb = new Uint32Array([9, 8, 7]);
    for (let s = 1; s <= 1000; s++) outPush(q, s, pb, 3, new Uint8Array([s & 255, 1, 2]));
    outDrop(q, 400);
    expect(q.length).toBe(600);
    expect(outAt(q, 0).ssn).toBe(401);
    expect([...outAt(q, 0).payload]).toEqual([401 & 255, 1, 2]);
    outDrop(q, 1000);
    expect(q.length).toBe(0);
    expect(q.head).toBe(0);
    // One chunk kept, written again from its start.
    expect(q.chunks.length).toBe(1);
    expect(q.fill).toBe(0);
    outPush(q, 1001, pb, 3, new Uint8Array([7]));
    expect(outAt(q, 0).ssn).toBe(1001);
  });
});
