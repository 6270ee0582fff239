// token-ring: a token circulates K rounds (args[0], default 10) around the
// ring 0 -> 1 -> ... -> n-1 -> 0. Every rank folds each visit into its
// accumulator; after its K-th visit it writes { rank, acc, visits } and is done.
// Deterministic: the only non-determinism is none at all (one token in flight).

const M = 1_000_000_007;

export default {
  init({ rank, size, args }) {
    return { rank, size, rounds: Number(args[0] ?? 10), visits: 0, acc: 0 };
  },

  async onStart(s, ctx) {
    if (s.size === 1) {
      await ctx.write({ rank: s.rank, acc: 0, visits: 0 });
      ctx.done();
      return;
    }
    if (s.rank === 0) ctx.send(1, { round: 0, value: 1 });
  },

  async onMessage(s, msg, ctx) {
    const { round, value } = msg.data;
    s.visits++;
    s.acc = (s.acc * 31 + value + s.rank) % M;
    const next = (s.rank + 1) % s.size;
    const nextValue = (value * 7 + s.rank + 1) % M;
    if (s.rank === 0) {
      // Rank 0 closes a round each time the token comes back.
      if (round + 1 < s.rounds) ctx.send(next, { round: round + 1, value: nextValue });
    } else {
      ctx.send(next, { round, value: nextValue });
    }
    if (s.visits === s.rounds) {
      await ctx.write({ rank: s.rank, acc: s.acc, visits: s.visits });
      ctx.done();
    }
  },
};
