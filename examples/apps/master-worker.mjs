// master-worker: rank 0 hands out T tasks (args[0], default 40) dynamically:
// each worker gets one task, and a new one each time it returns a result, so
// who computes what depends on timing. Task seeds come from the environment
// through ctx.read(() => Math.random()), the non-determinism a recovery
// protocol must log. The master writes { task, seed, result } per result and
// a final { tasks, checksum }; each worker writes { worker, tasks } when
// stopped. work(seed) is deterministic, so any run can be checked:
// result === work(seed).

export function work(seed) {
  let x = seed >>> 0;
  for (let i = 0; i < 2000; i++) x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  return x;
}

async function assign(s, worker, ctx) {
  if (s.nextTask < s.tasks) {
    const task = s.nextTask++;
    // A synchronous produce: the value comes back at once (logged, and replayed after a crash).
    const seed = ctx.read(() => Math.floor(Math.random() * 2 ** 31));
    ctx.send(worker, { task, seed });
  } else {
    ctx.send(worker, { stop: true });
  }
}

async function finish(s, ctx) {
  await ctx.write({ tasks: s.results, checksum: s.checksum });
  ctx.done();
}

export default {
  init({ rank, size, args }) {
    return { rank, size, tasks: Number(args[0] ?? 40), nextTask: 0, results: 0, checksum: 0, done: 0 };
  },

  async onStart(s, ctx) {
    if (s.rank !== 0) return;
    if (s.size === 1) {
      // No workers: the master does every task itself.
      for (; s.nextTask < s.tasks; s.nextTask++) {
        const seed = ctx.read(() => Math.floor(Math.random() * 2 ** 31));
        const result = work(seed);
        s.results++;
        s.checksum = (s.checksum + result) >>> 0;
        await ctx.write({ task: s.nextTask, seed, result });
      }
      await finish(s, ctx);
      return;
    }
    for (let w = 1; w < s.size; w++) await assign(s, w, ctx);
  },

  async onMessage(s, { from, data }, ctx) {
    if (s.rank !== 0) {
      if (data.stop) {
        await ctx.write({ worker: s.rank, tasks: s.results });
        ctx.done();
        return;
      }
      s.results++;
      ctx.send(0, { task: data.task, seed: data.seed, result: work(data.seed) });
      return;
    }
    s.results++;
    s.checksum = (s.checksum + data.result) >>> 0;
    await ctx.write({ task: data.task, seed: data.seed, result: data.result });
    await assign(s, from, ctx);
    if (s.results === s.tasks) await finish(s, ctx);
  },
};
