import { describe, expect, it, vi } from "vitest";
import { newOutLog, outPack, outPush, outUnpack, outAt, type OutPack } from "../src/protocol-lib/out-log.js";
import { decodeState, encodeState } from "../src/protocol-lib/state-codec.js";
import { releaseWarm, takeWarm, warmFreeBytes, WARM_MIN } from "../src/protocol-lib/warm.js";
import { encodeAppState, decodeValue } from "../src/host/value-codec.js";

/** Logs to 2 destinations with `n` messages of 1 000 bytes each (message i filled with i & 0xff). */
function logs(n: number): ReturnType<typeof newOutLog>[] {
  const qs = [newOutLog(0), newOutLog(1)];
  const pb = new Uint32Array([7, 8]);
  for (let i = 1; i <= n; i++) outPush(qs[i % 2]!, i, pb, 2, new Uint8Array(1000).fill(i & 0xff));
  return qs;
}

describe("warm buffers (protocol-lib warm)", () => {
  it("reuses the memory of a given-back buffer for the next one of its size class, once", () => {
    const before = warmFreeBytes();
    const a = takeWarm(WARM_MIN + 10);
    expect(a.length).toBe(WARM_MIN + 10);
    const mem = a.buffer;
    releaseWarm(a);
    expect(warmFreeBytes()).toBe(before + 2 * WARM_MIN);
    releaseWarm(a); // a second release is ignored
    expect(warmFreeBytes()).toBe(before + 2 * WARM_MIN);
    const b = takeWarm(2 * WARM_MIN);
    expect(b.buffer).toBe(mem);
    expect(warmFreeBytes()).toBe(before);
    const c = takeWarm(WARM_MIN + 10);
    expect(c.buffer).not.toBe(mem); // b still holds it
    releaseWarm(b);
    releaseWarm(c);
  });

  it("hands out a free buffer of a larger size class (up to 4x) before a fresh one", async () => {
    // A pool of its own (the other tests leave buffers of every size in theirs).
    vi.resetModules();
    const { takeWarm, releaseWarm } = await import("../src/protocol-lib/warm.js");
    const big = takeWarm(3 * WARM_MIN); // 4 x WARM_MIN
    const mem = big.buffer;
    releaseWarm(big);
    const small = takeWarm(WARM_MIN);
    expect(small.buffer).toBe(mem);
    expect(small.length).toBe(WARM_MIN);
    releaseWarm(small);
    const tiny = takeWarm(WARM_MIN / 2 + WARM_MIN / 4); // below WARM_MIN: not pooled
    expect(tiny.buffer).not.toBe(mem);
    const huge = takeWarm(64 * WARM_MIN);
    expect(huge.buffer).not.toBe(mem); // more than 4 size classes down: never used for it
    takeWarm(4 * WARM_MIN); // drain it
  });

  it("pools nothing small or foreign", () => {
    const before = warmFreeBytes();
    const small = takeWarm(100);
    expect(small.length).toBe(100);
    releaseWarm(small);
    releaseWarm(new Uint8Array(4 * WARM_MIN));
    releaseWarm(Buffer.alloc(4 * WARM_MIN));
    expect(warmFreeBytes()).toBe(before);
  });

  it("keeps at most 32 MiB free", () => {
    const held = Array.from({ length: 40 }, () => takeWarm(1 << 20));
    for (const h of held) releaseWarm(h);
    expect(warmFreeBytes()).toBeLessThanOrEqual(32 << 20);
    expect(warmFreeBytes()).toBeGreaterThanOrEqual(30 << 20);
    // Drain it again so the other tests start from an empty pool of this class.
    for (let i = 0; i < 40; i++) takeWarm(1 << 20);
  });

  it("encodeState with consume gives back outPack's arrays, and the encoded state does not depend on them", () => {
    const qs = logs(400);
    const packs = outPack(qs);
    const before = warmFreeBytes();
    const bytes = encodeState({ "core.outq": packs, n: 3 }, { consume: true });
    // ix (10 KB), words (3 KB) and bytes (400 KB) per pack: each byte array is pooled, and now free again.
    expect(warmFreeBytes()).toBeGreaterThan(before);
    // The next takes reuse that memory; scribbling over it must not change the checkpoint.
    const reused = Array.from({ length: 8 }, () => takeWarm(200 * 1000));
    for (const r of reused) r.fill(0xee);
    const back = decodeState(bytes) as { "core.outq": OutPack[]; n: number };
    expect(back.n).toBe(3);
    const restored = outUnpack(2, back["core.outq"]);
    for (let d = 0; d < 2; d++) {
      expect(restored[d]!.length).toBe(200);
      for (let i = 0; i < restored[d]!.length; i++) {
        const m = outAt(restored[d]!, i);
        const orig = outAt(qs[d]!, i);
        expect(m.ssn).toBe(orig.ssn);
        expect(Array.from(m.pb)).toEqual([7, 8]);
        expect(m.payload).toEqual(orig.payload);
      }
    }
    for (const r of reused) releaseWarm(r);
    releaseWarm(bytes);
  });

  it("encodeState without consume leaves the state's arrays alone", () => {
    const packs = outPack(logs(400));
    const copy = packs.map((p) => p.bytes.slice());
    const before = warmFreeBytes();
    releaseWarm(encodeState({ "core.outq": packs }));
    expect(warmFreeBytes()).toBe(before);
    const scribble = takeWarm(200 * 1000);
    scribble.fill(0xee);
    packs.forEach((p, i) => expect(p.bytes).toEqual(copy[i]));
  });

  it("encodeAppState writes a captured state into the buffer its allocator gives", () => {
    const state = { grid: new Float64Array(20000).fill(1.25), step: 9 };
    let given: Buffer | null = null;
    const bytes = encodeAppState(state, (n) => (given = takeWarm(n)));
    expect(given).not.toBeNull();
    expect(bytes).toBe(given);
    expect(decodeValue(bytes)).toStrictEqual(state);
    releaseWarm(bytes);
  });
});
