/**
 * The packed MemoryLog against a plain model (an array of {lsn, bytes}):
 * seeded random appends (some larger than a chunk), syncs, truncations,
 * simulated crashes and reads, checking contents, lsns, byte accounting, and
 * that views handed out earlier never change afterwards.
 */
import { describe, expect, it } from "vitest";
import { MemoryLog, newMemoryLogState } from "../src/storage/index.js";

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe("MemoryLog (packed)", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`matches the model under random ops, seed ${seed}`, async () => {
      const r = rng(seed);
      const state = newMemoryLogState();
      let log = new MemoryLog("local-disk", state);
      let model: { lsn: number; data: number[] }[] = [];
      let synced = 0;
      let first = 0;
      let next = 0;
      const held: { view: Uint8Array; want: number[] }[] = [];
      const scratch = new Uint8Array(200_000);
      for (let step = 0; step < 2000; step++) {
        const op = r();
        if (op < 0.6) {
          const n = r() < 0.01 ? 70_000 + Math.floor(r() * 100_000) : Math.floor(r() * 300);
          for (let i = 0; i < n; i++) scratch[i] = Math.floor(r() * 256);
          const want = Array.from(scratch.subarray(0, n));
          expect(log.append(scratch.subarray(0, n))).toBe(next);
          scratch.fill(0xee, 0, n); // the log must have copied
          model.push({ lsn: next++, data: want });
        } else if (op < 0.75) {
          await log.sync();
          synced = model.length;
        } else if (op < 0.85) {
          const lsn = first + Math.floor(r() * (next - first + 1));
          await log.truncatePrefix(lsn);
          if (lsn > first) {
            const cut = Math.min(lsn - first, model.length);
            model = model.slice(cut);
            synced = Math.max(0, synced - cut);
            first = lsn;
          }
        } else if (op < 0.9) {
          log = MemoryLog.reopenAfterCrash("local-disk", state);
          model = model.slice(0, synced);
          next = model.length > 0 ? model[model.length - 1]!.lsn + 1 : first;
          expect(log.nextLsn).toBe(next);
        } else {
          const got = await log.readAll();
          expect(got.map((x) => x.lsn)).toEqual(model.map((x) => x.lsn));
          for (let i = 0; i < got.length; i++) expect(Buffer.from(got[i]!.data).equals(Buffer.from(model[i]!.data))).toBe(true);
          if (got.length > 0) {
            const k = Math.floor(r() * got.length);
            held.push({ view: got[k]!.data, want: model[k]!.data });
          }
        }
        expect(log.nextLsn).toBe(next);
        expect(state.bytes).toBe(model.reduce((a, x) => a + x.data.length, 0));
      }
      for (const h of held) expect(Buffer.from(h.view).equals(Buffer.from(h.want))).toBe(true);
      await expect(log.truncatePrefix(next + 1)).rejects.toThrow(RangeError);
    });
  }

  it("drops the chunks a truncation covers", async () => {
    const state = newMemoryLogState();
    const log = new MemoryLog("volatile-memory-of-self", state);
    const rec = new Uint8Array(1000);
    for (let i = 0; i < 1000; i++) log.append(rec);
    expect(state.chunks.length).toBeGreaterThan(10);
    await log.truncatePrefix(990);
    expect(state.chunks.length).toBe(1);
    expect((await log.readAll()).map((x) => x.lsn)).toEqual([990, 991, 992, 993, 994, 995, 996, 997, 998, 999]);
  });
});
