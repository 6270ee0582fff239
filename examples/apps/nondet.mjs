// nondet: a token circulates K rounds (args[0], default 20) around the ring,
// and every hop adds a random jitter to it. With args[1] === "read" the jitter
// comes from ctx.read(() => Math.random()): recovery replays the logged value
// and the job survives a kill. Without it, Math.random() is called straight in
// the handler: a rank killed and recovered re-sends the token with another
// jitter than before its crash, and egida-run reports the non-determinism
// (exit 8) instead of committing a different sum.

export default {
  init({ rank, size, args }) {
    return { rank, size, rounds: Number(args[0] ?? 20), viaRead: args[1] === "read", visits: 0, sum: 0 };
  },

  onStart(s, ctx) {
    if (s.rank === 0) ctx.send(1 % s.size, { round: 0, value: 0 });
  },

  async onMessage(s, msg, ctx) {
    const { round, value } = msg.data;
    s.visits++;
    s.sum += value;
    const jitter = s.viaRead ? await ctx.read(() => Math.random()) : Math.random();
    const next = (s.rank + 1) % s.size;
    if (s.rank !== 0 || round + 1 < s.rounds) ctx.send(next, { round: s.rank === 0 ? round + 1 : round, value: value + jitter });
    if (s.visits === s.rounds) {
      await ctx.write({ rank: s.rank, sum: s.sum });
      ctx.done();
    }
  },
};
