/**
 * Order-deterministic test applications: their final state and their set of
 * outputs do not depend on how deliveries from different channels interleave,
 * so a crash run can be compared with the failure-free run. Each delivery is
 * identified; a second delivery of the same message is counted in `dups`
 * (exactly-once check), in the state itself so it survives recovery.
 */
import type { App } from "@egida/runtime-core/spi";

export interface TokenState {
  rank: number;
  size: number;
  /** Commutative digest of everything delivered. */
  digest: number;
  count: number;
  expected: number;
  seen: Record<string, true>;
  dups: number;
}

interface Token {
  origin: number;
  id: number;
  hops: number;
}

/** A 32-bit hash step the test apps fold their state with. */
export function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Deterministic route: where token (origin, id) goes after hop `hops` from `at`. */
export function next(at: number, t: Token, size: number): number {
  const step = 1 + ((t.origin * 7 + t.id * 3 + t.hops) % (size - 1));
  return (at + step) % size;
}

/**
 * `tokens` tokens start at every rank and each travels `hops` hops along a
 * deterministic route; every 3rd hop writes an output. With tokens = 1 and
 * one origin this degenerates to a token ring.
 */
export function tokenApp(opts: { tokens: number; hops: number; origins?: number[]; /** Write every this many hops (default 3; 0: never). */ writeEvery?: number }): App<TokenState> {
  const every = opts.writeEvery ?? 3;
  const expectedFor = (rank: number, size: number): number => {
    let n = 0;
    const origins = opts.origins ?? Array.from({ length: size }, (_, i) => i);
    for (const o of origins) {
      for (let id = 0; id < opts.tokens; id++) {
        let at = o;
        const t: Token = { origin: o, id, hops: 0 };
        for (let h = 1; h <= opts.hops; h++) {
          at = next(at, t, size);
          t.hops = h;
          if (at === rank) n++;
        }
      }
    }
    return n;
  };
  return {
    init: ({ rank, size }) => ({ rank, size, digest: 0, count: 0, expected: expectedFor(rank, size), seen: {}, dups: 0 }),
    onStart(s, ctx) {
      if (s.expected === 0) ctx.done();
      const origins = opts.origins ?? Array.from({ length: s.size }, (_, i) => i);
      if (!origins.includes(s.rank)) return;
      for (let id = 0; id < opts.tokens; id++) {
        const t: Token = { origin: s.rank, id, hops: 0 };
        ctx.send(next(s.rank, t, s.size), { ...t, hops: 1 });
      }
    },
    async onMessage(s, msg, ctx) {
      const t = msg.data as Token;
      const key = `${t.origin}.${t.id}.${t.hops}`;
      if (s.seen[key]) s.dups++;
      s.seen[key] = true;
      s.count++;
      s.digest = (s.digest + mix(t.origin * 1000 + t.id, t.hops)) >>> 0;
      if (every > 0 && t.hops % every === 0) await ctx.write({ at: s.rank, key });
      if (t.hops < opts.hops) ctx.send(next(s.rank, t, s.size), { ...t, hops: t.hops + 1 });
      if (s.count === s.expected) ctx.done();
    },
  };
}
