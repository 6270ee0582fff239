/**
 * The optimistic tests' application and final-state checks (shared by
 * optimistic.test.ts and optimistic-exchange.test.ts): tokens routed like
 * test/protocols/apps.ts, each message stamped with a hash of its sender's
 * delivery history so far, and every rank's n-th send / receive stamps kept
 * in its state, so a surviving orphan shows as a received stamp its sender's
 * surviving history did not send.
 */
import { expect } from "vitest";
import type { App } from "@egida/runtime-core/spi";
import { kernelOf } from "../../compiler/src/blocks/compose.js";
import { histPb } from "../../runtime-core/src/protocol-lib/hist.js";
import type { JobResult } from "./harness.js";
import { mix, next, type TokenState } from "./apps.js";

export interface StampState extends TokenState {
  hist: number;
  sent: Record<string, number>;
  recv: Record<string, number>;
  nSent: number[];
  nRecv: number[];
}

interface Token {
  origin: number;
  id: number;
  hops: number;
  stamp: number;
}


export function stampApp(opts: { tokens: number; hops: number; writeEvery: number; origins?: number[]; env?: (rank: number) => number }): App<StampState> {
  const originsOf = (size: number): number[] => opts.origins ?? Array.from({ length: size }, (_, i) => i);
  const expectedFor = (rank: number, size: number): number => {
    let n = 0;
    for (const o of originsOf(size)) {
      for (let id = 0; id < opts.tokens; id++) {
        let at = o;
        for (let h = 1; h <= opts.hops; h++) {
          at = next(at, { origin: o, id, hops: h - 1 }, size);
          if (at === rank) n++;
        }
      }
    }
    return n;
  };
  const send = (s: StampState, ctx: { send(to: number, d: unknown): void }, to: number, t: Omit<Token, "stamp">): void => {
    const n = s.nSent[to]! + 1;
    s.nSent[to] = n;
    s.sent[`${to}:${n}`] = s.hist;
    ctx.send(to, { ...t, stamp: s.hist });
  };
  return {
    init: ({ rank, size }) => ({
      rank,
      size,
      digest: 0,
      count: 0,
      expected: expectedFor(rank, size),
      seen: {},
      dups: 0,
      hist: rank + 1,
      sent: {},
      recv: {},
      nSent: new Array<number>(size).fill(0),
      nRecv: new Array<number>(size).fill(0),
    }),
    async onStart(s, ctx) {
      if (opts.env !== undefined) {
        const env = opts.env;
        s.hist = mix(s.hist, await ctx.read(() => env(s.rank)));
      }
      if (s.expected === 0) ctx.done();
      if (!originsOf(s.size).includes(s.rank)) return;
      for (let id = 0; id < opts.tokens; id++) send(s, ctx, next(s.rank, { origin: s.rank, id, hops: 0 }, s.size), { origin: s.rank, id, hops: 1 });
    },
    async onMessage(s, msg, ctx) {
      const t = msg.data as Token;
      const key = `${t.origin}.${t.id}.${t.hops}`;
      if (s.seen[key]) s.dups++;
      s.seen[key] = true;
      s.count++;
      s.digest = (s.digest + mix(t.origin * 1000 + t.id, t.hops)) >>> 0;
      const n = s.nRecv[msg.from]! + 1;
      s.nRecv[msg.from] = n;
      s.recv[`${msg.from}:${n}`] = t.stamp;
      s.hist = mix(s.hist, mix(msg.from, t.stamp));
      if (t.hops % opts.writeEvery === 0) await ctx.write({ at: s.rank, key });
      if (opts.env !== undefined) {
        const env = opts.env;
        s.hist = mix(s.hist, await ctx.read(() => env(s.rank)));
      }
      if (t.hops < opts.hops) send(s, ctx, next(s.rank, t, s.size), { origin: t.origin, id: t.id, hops: t.hops + 1 });
      if (s.count === s.expected) ctx.done();
    },
  };
}

/**
 * Consistency of the final states (no orphan survived) and of the incarnation-end tables:
 * with `allEnds` (broadcast logical clock: every token reaches everyone) every process knows
 * every end; otherwise (exchange vector clock: ends are pulled when needed) what each knows
 * is a prefix of the owner's table.
 */
export function expectConsistent(run: JobResult<StampState>, allEnds = true): void {
  const n = run.states.length;
  for (let r = 0; r < n; r++) {
    const st = run.states[r]!;
    for (let from = 0; from < n; from++) {
      for (let k = 1; k <= st.nRecv[from]!; k++) {
        // Received n-th from `from` with this stamp ⇒ `from` sent its n-th message to r with it.
        expect(run.states[from]!.sent[`${r}:${k}`], `rank ${r} holds message ${k} from ${from} that ${from}'s history did not send`).toBe(st.recv[`${from}:${k}`]);
      }
    }
  }
  const ks = run.protocols.map((p) => kernelOf(p));
  for (let j = 0; j < n; j++) {
    // Everyone learned every incarnation end of j (j's own table is authoritative).
    for (const k of ks) expect(allEnds ? k.optEnds[j] : ks[j]!.optEnds[j]!.slice(0, k.optEnds[j]!.length)).toEqual(allEnds ? ks[j]!.optEnds[j] : k.optEnds[j]);
  }
  for (const k of ks) {
    for (let i = 0; i < k.optHist.length; i++) {
      for (let x = 0; x < n; x++) {
        const c = histPb(k.optHist, i, 1 + x);
        const e = ks[x]!.optEnds[x]!;
        expect(c < e.length && histPb(k.optHist, i, 1 + n + x) > e[c]!, `rank ${k.host.rank} still depends on a lost state of ${x}`).toBe(false);
      }
    }
  }
}

