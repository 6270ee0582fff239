/**
 * Co-ordinated output commit under hybrid causal logging
 * (specs/fig3b-coordinated-commit.egida, f = 2; causal/commit.ts with
 * `causal.commit` = "coordinated"). n = 3: ranks 0 and 2 send y and x to
 * rank 1, which delivers one first (determinant d = #(1, 1)) and tells rank 0
 * what it saw; rank 0 writes "1 saw <it>". d is then held by ranks 1 and 0
 * only (rank 2 never hears of it): fewer than f + 1 = 3 holders, and the flush
 * timer is frozen (60 s), so only the commit can make d stable: rank 0 must
 * ask rank 1 to flush its stable log past d before the output leaves. Then
 * ranks 0 and 1 crash together (f = 2): rank 1 reads d from its log and
 * delivers in the same order. An output released without that flush would be
 * retracted whenever the replay delivers the other message first (the
 * negative control in docs/protocols.md: the write not waiting for the flush
 * retracts on most seeds). Variant: rank 1 also crashes alone first, at times
 * that fall before, inside and after the commit's wait: a restarted rank 1 is
 * asked again and answers once its replay has logged d again.
 */
import { describe, expect, it } from "vitest";
import type { App, ProtocolFactory } from "@egida/runtime-core/spi";
import { discoverProtocols } from "../conformance/protocols.js";
import { runJob } from "./harness.js";

interface St {
  rank: number;
  got: string[];
}

const app: App<St> = {
  init: ({ rank }) => ({ rank, got: [] }),
  onStart(s, ctx) {
    if (s.rank === 0) ctx.send(1, "y");
    if (s.rank === 2) {
      ctx.send(1, "x");
      ctx.done();
    }
  },
  async onMessage(s, msg, ctx) {
    const data = msg.data as string;
    s.got.push(data);
    if (s.rank === 0) {
      await ctx.write(`1 ${data}`);
      ctx.done();
    } else {
      if (s.got.length === 1) ctx.send(0, `saw ${data}`);
      if (s.got.length === 2) ctx.done();
    }
  },
};

const found = (await discoverProtocols({ backends: ["inline", "modular", "composer"], options: { checkpointIntervalMs: 60_000, flushIntervalMs: 60_000 } })).protocols.filter((p) => p.name === "fig3b-coordinated-commit");

it("finds every build", () => {
  expect(found.length).toBe(3);
});

describe.each(found.map((p) => [p.backend, p] as const))("fig3b-coordinated-commit (%s): an output never depends on a determinant two crashes can lose", (_title, entry) => {
  const cases = [0, 3].flatMap((early) => [3].map((seed) => [early, seed] as const));
  it.each(cases)("rank 1 first crashed at %i ms (0: not), seed %i; then ranks 0 and 1 together", async (early, seed) => {
    // The conformance loader types against runtime-core's source SPI, the harness against the package's: same shapes.
    const factory = (await entry.load()) as unknown as ProtocolFactory;
    const schedule = [...(early > 0 ? [{ at: early, rank: 1 }] : []), { at: 60, rank: 0 }, { at: 60, rank: 1 }];
    const run = await runJob({ factory, app, size: 3, seed, crashes: 0, schedule, crashWindow: [0, 100], restartDelay: 4, failedUntilLive: true, maxConcurrent: 2, f: 2 });
    expect(run.errors).toEqual([]);
    expect(run.retractions).toEqual([]);
    expect(run.crashedRanks.sort()).toEqual([0, 1]);
    expect(run.recovered).toBe(early > 0 ? 3 : 2);
    const first = run.states[1]!.got[0]!;
    expect(run.states[1]!.got.slice().sort()).toEqual(["x", "y"]);
    expect([...run.outputs.values()]).toEqual([`1 saw ${first}`]);
    // The output waited for rank 1's own flush (not a push to f peers): every incarnation of rank 0 that wrote it.
    const commits = run.trace.flatMap((e) => (e.type === "protocol" && e.rank === 0 && e.what.startsWith("co-ordinated output commit") ? [e.what] : []));
    expect(commits.length).toBeGreaterThan(0);
    for (const what of commits) expect(what).toBe("co-ordinated output commit: flushed by 1");
  });
});
