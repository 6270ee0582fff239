/**
 * The finish-phase check shared by the causal and optimistic finish tests:
 * a ring that writes at every hop without awaiting the write and calls done()
 * right after its last write, run on the real runtime (runSimJob) under a
 * protocol, against the `none` baseline's outputs (it releases every write at
 * once): failure-free, with a count kill mid-run, and with a kill of the last
 * writer as the finish phase starts. Every output must be released, once, in
 * seq order, equal to the baseline's; a protocol whose finish resolves while
 * writes are still committing loses the last ones.
 */
import { expect } from "vitest";
import type { App, AppContext } from "@egida/runtime-core/spi";
import { decodeOutput } from "../../runtime-core/src/launcher/report.js";
import { runSimJob } from "../../runtime-core/src/launcher/sim-job.js";
import type { KillSpec } from "../../runtime-core/src/launcher/options.js";
import { noneProtocol } from "../../runtime-core/src/protocols/none.js";

const SIZE = 4;
const HOPS = 41;

interface RingState {
  rank: number;
  size: number;
  last: number;
}

/** Last hop a rank receives: the ring starts at rank 0 with hop 0. */
const lastHop = (rank: number, size: number): number => {
  let h = HOPS;
  while (h % size !== rank) h--;
  return h;
};

/** A ring that writes at every hop without awaiting the write, and says done right after its last write. */
const fireAndForget: App<RingState> = {
  init: ({ rank, size }) => ({ rank, size, last: lastHop(rank, size) }),
  onStart(s, ctx) {
    if (s.rank === 0) hop(s, 0, ctx);
  },
  onMessage(s, msg, ctx) {
    hop(s, msg.data as number, ctx);
  },
};

function hop(s: RingState, h: number, ctx: AppContext): void {
  void ctx.write({ rank: s.rank, hop: h });
  if (h < HOPS) ctx.send((s.rank + 1) % s.size, h + 1);
  if (h === s.last) ctx.done();
}

export type SimFactory = Parameters<typeof runSimJob>[0]["protocol"];

/** Per rank, the output values in seq order, and whether seqs are 1..n exactly once. */
function byRank(outs: readonly { rank: number; seq: number; payload: Uint8Array }[]): { values: unknown[][]; dense: boolean } {
  const per: { seq: number; v: unknown }[][] = Array.from({ length: SIZE }, () => []);
  for (const o of outs) per[o.rank]!.push({ seq: o.seq, v: decodeOutput(o.payload) });
  for (const l of per) l.sort((a, b) => a.seq - b.seq);
  const dense = per.every((l) => l.every((x, i) => x.seq === i + 1));
  return { values: per.map((l) => l.map((x) => x.v)), dense };
}

/** Seeds 1–3: failure-free, `2@5msgs`, and the last writer killed as the finish phase starts. */
export async function expectFinishReleasesUnawaitedWrites(factory: SimFactory): Promise<void> {
  const app = fireAndForget as App<unknown>;
  for (const seed of [1, 2, 3]) {
    const ref = await runSimJob({ size: SIZE, app, protocol: noneProtocol as unknown as SimFactory, seed });
    expect(ref.failure).toBeNull();
    const want = byRank(ref.outputs).values;
    expect(want.flat()).toHaveLength(HOPS + 1);

    const free = await runSimJob({ size: SIZE, app, protocol: factory, seed, timeoutMs: 30_000 });
    expect(free.failure, `seed ${seed}`).toBeNull();
    expect(free.finishStartMs).not.toBeNull();
    const got = byRank(free.outputs);
    expect(got.dense, `seed ${seed}`).toBe(true);
    expect(got.values, `seed ${seed}`).toEqual(want);

    // The last rank's last write is certainly still committing when every rank is done: kill it then.
    const lastRank = HOPS % SIZE;
    const t0 = free.finishStartMs!;
    const runs: KillSpec[][] = [
      [{ rank: 2, atDeliveries: 5, text: "2@5msgs" }],
      [{ rank: lastRank, atMs: t0, text: `${lastRank}@${t0}ms` }],
    ];
    for (const kills of runs) {
      const events: string[] = [];
      const res = await runSimJob({ size: SIZE, app, protocol: factory, seed, kills, timeoutMs: 30_000, onEvent: (m) => events.push(m) });
      const what = `seed ${seed} ${kills.map((k) => k.text).join(" ")}\n${events.join("\n")}`;
      expect(res.failure, what).toBeNull();
      expect(res.ranks[kills[0]!.rank]!.restarts, what).toBe(1);
      const g = byRank(res.outputs);
      expect(g.dense, what).toBe(true);
      expect(g.values, what).toEqual(want);
    }
  }
}
