/** `simulate`: the public one-call simulation API (kills as strings, decoded outputs per rank). */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { simulate, SimulateOptionsError } from "../src/index.js";
import { ProtocolLoadError } from "../src/launcher/load-protocol.js";
import { noneProtocol } from "../src/protocols/none.js";
import type { App } from "../src/spi.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Ring {
  readonly rank: number;
  readonly size: number;
  readonly rounds: number;
  visits: number;
  acc: number;
}

/** A token makes `rounds` trips around the ring; each rank writes its fold of every visit, then a final line. */
const ring: App<Ring> = {
  init: ({ rank, size, args }) => ({ rank, size, rounds: Number(args[0] ?? 6), visits: 0, acc: rank }),
  onStart(s, ctx) {
    if (s.rank === 0) ctx.send(1 % s.size, { round: 0, value: 1 });
  },
  async onMessage(s, msg, ctx) {
    const { round, value } = msg.data as { round: number; value: number };
    s.visits++;
    s.acc = (s.acc * 31 + value) % 1_000_003;
    if (s.visits % 2 === 0) await ctx.write({ rank: s.rank, visit: s.visits, acc: s.acc });
    const next = round + (s.rank === 0 ? 1 : 0);
    if (next < s.rounds) ctx.send((s.rank + 1) % s.size, { round: next, value: (value * 7 + s.rank) % 1_000_003 });
    if (s.visits === s.rounds) {
      await ctx.write({ rank: s.rank, final: s.acc });
      ctx.done();
    }
  },
};

describe("simulate", () => {
  it("returns each rank's outputs decoded, in write order", async () => {
    const r = await simulate({ app: ring, protocol: noneProtocol, size: 3, args: ["6"] });
    expect(r.failure).toBeNull();
    expect(r.ok).toBe(true);
    expect(r.restarts).toBe(0);
    expect(r.outputs).toHaveLength(3);
    for (const [rank, outs] of r.outputs.entries()) {
      // 3 even visits and the final line.
      expect(outs).toHaveLength(4);
      expect(outs.slice(0, 3).map((o) => (o as { visit: number }).visit)).toEqual([2, 4, 6]);
      expect(outs[3]).toMatchObject({ rank });
    }
  });

  it("under a generated protocol given as a directory, a run with kills gives the failure-free outputs", async () => {
    const reference = await simulate({ app: ring, protocol: "none", size: 3, args: ["8"] });
    expect(reference.ok).toBe(true);
    const r = await simulate({ app: ring, protocol: "generated/fig4a-sby", cwd: ROOT, size: 3, args: ["8"], kills: ["1@3msgs", "2@6msgs"], seed: 7 });
    expect(r.failure).toBeNull();
    expect(r.restarts).toBe(2);
    expect(r.ranks[1]!.restarts).toBe(1);
    expect(r.outputs).toEqual(reference.outputs);
  });

  it("a job that fails resolves with the failure instead of rejecting", async () => {
    const throws: App<null> = {
      init: () => null,
      onStart: (_s, ctx) => void (ctx.rank === 0 && ctx.send(1, 0)),
      onMessage: () => {
        throw new Error("boom");
      },
    };
    const r = await simulate({ app: throws, protocol: "none", size: 2 });
    expect(r.ok).toBe(false);
    expect(r.failure).toMatchObject({ kind: "app-error", rank: 1 });
  });

  it("bad options reject with one clear message", async () => {
    await expect(simulate({ app: ring, protocol: "none", size: 3, kills: ["5@3msgs"] })).rejects.toThrow(new SimulateOptionsError("simulate: kill 5@3msgs: no rank 5 in a job of 3"));
    await expect(simulate({ app: ring, protocol: "none", size: 3, kills: ["x"] })).rejects.toBeInstanceOf(SimulateOptionsError);
    await expect(simulate({ app: ring, protocol: "none", size: 0 })).rejects.toThrow(/size must be a positive integer/);
    await expect(simulate({ app: ring, protocol: "./no-such-protocol", cwd: ROOT, size: 2 })).rejects.toBeInstanceOf(ProtocolLoadError);
  });
});
