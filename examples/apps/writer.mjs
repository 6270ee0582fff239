// writer: outputs often. Each rank takes W steps (args[0], default 200); at
// every step it writes { rank, step, value } (awaiting the output commit) and
// passes a baton to the next rank, and it takes its next step when the baton
// from the previous rank arrives. A good stress test of output commit and of
// the idempotent sink. Deterministic.

async function stepOnce(s, ctx) {
  s.value = (Math.imul(s.value ^ s.step, 0x9e3779b1) + s.rank) >>> 0;
  await ctx.write({ rank: s.rank, step: s.step, value: s.value });
  s.step++;
  if (s.size > 1) ctx.send((s.rank + 1) % s.size, { step: s.step });
}

async function maybeDone(s, ctx) {
  if (s.step === s.steps && !s.finished) {
    s.finished = true;
    ctx.done();
  }
}

export default {
  init({ rank, size, args }) {
    return { rank, size, steps: Number(args[0] ?? 200), step: 0, batons: 0, value: rank + 1, finished: false };
  },

  async onStart(s, ctx) {
    if (s.size === 1) {
      while (s.step < s.steps) await stepOnce(s, ctx);
    } else {
      await stepOnce(s, ctx);
    }
    await maybeDone(s, ctx);
  },

  async onMessage(s, _msg, ctx) {
    // Every rank sends exactly `steps` batons, so every rank receives `steps`;
    // the last one is not followed by a step.
    s.batons++;
    if (s.step < s.steps) await stepOnce(s, ctx);
    await maybeDone(s, ctx);
  },
};
