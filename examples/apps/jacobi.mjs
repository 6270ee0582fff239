// jacobi: 2-D Jacobi relaxation of Laplace's equation on an N x N grid
// (args[0], default 64) for a fixed number of iterations (args[1], default
// 100). Rows are split into strips, one per rank; each iteration exchanges
// halo rows with the neighbours above and below. The top boundary is held at
// 1.0, the others at 0. At the end every rank writes its local residual and
// rank 0 gathers the global one (summed in rank order, so it is exact-same
// every run) and writes { iterations, residual }.

function strip(rank, size, n) {
  const base = Math.floor(n / size);
  const extra = n % size;
  const rows = base + (rank < extra ? 1 : 0);
  const first = rank * base + Math.min(rank, extra);
  return { first, rows };
}

// The local grid has rows+2 rows (halo above and below), n columns.
function at(s, i, j) {
  return i * s.n + j;
}

function haloRow(s, i) {
  return Array.from(s.grid.subarray(at(s, i, 0), at(s, i, 0) + s.n));
}

function sendHalos(s, ctx) {
  if (s.rows === 0) return;
  if (s.rank > 0) ctx.send(s.rank - 1, { it: s.it, side: "below", row: haloRow(s, 1) });
  if (s.rank < s.size - 1) ctx.send(s.rank + 1, { it: s.it, side: "above", row: haloRow(s, s.rows) });
}

function ready(s) {
  const p = s.pending[s.it] ?? {};
  return (s.rank === 0 || p.above) && (s.rank === s.size - 1 || p.below);
}

function step(s) {
  const p = s.pending[s.it] ?? {};
  delete s.pending[s.it];
  if (p.above) s.grid.set(p.above, at(s, 0, 0));
  if (p.below) s.grid.set(p.below, at(s, s.rows + 1, 0));
  const next = new Float64Array(s.grid);
  let res = 0;
  for (let i = 1; i <= s.rows; i++) {
    const gi = s.first + i - 1;
    if (gi === 0 || gi === s.n - 1) continue; // boundary rows are fixed
    for (let j = 1; j < s.n - 1; j++) {
      const v = 0.25 * (s.grid[at(s, i - 1, j)] + s.grid[at(s, i + 1, j)] + s.grid[at(s, i, j - 1)] + s.grid[at(s, i, j + 1)]);
      const d = v - s.grid[at(s, i, j)];
      res += d * d;
      next[at(s, i, j)] = v;
    }
  }
  s.grid = next;
  s.localResidual = res;
  s.it++;
}

async function advance(s, ctx) {
  while (s.it < s.iterations && ready(s)) {
    step(s);
    if (s.it < s.iterations) sendHalos(s, ctx);
  }
  if (s.it === s.iterations && !s.reported) {
    s.reported = true;
    await ctx.write({ rank: s.rank, localResidual: s.localResidual });
    if (s.rank === 0) s.residuals[0] = s.localResidual;
    else ctx.send(0, { residual: s.localResidual });
  }
  if (s.rank === 0 && s.reported && !s.finished && s.residuals.filter((x) => x !== null).length === s.size) {
    s.finished = true;
    const total = s.residuals.reduce((a, b) => a + b, 0);
    await ctx.write({ iterations: s.iterations, n: s.n, residual: Math.sqrt(total) });
  }
  if (s.reported && (s.rank !== 0 || s.finished)) ctx.done();
}

export default {
  init({ rank, size, args }) {
    const n = Number(args[0] ?? 64);
    const iterations = Number(args[1] ?? 100);
    const { first, rows } = strip(rank, size, n);
    const grid = new Float64Array((rows + 2) * n);
    for (let i = 1; i <= rows; i++) if (first + i - 1 === 0) grid.fill(1, i * n, (i + 1) * n);
    return {
      rank, size, n, iterations, first, rows, grid,
      it: 0, pending: {}, localResidual: 0, reported: false, finished: false,
      residuals: Array.from({ length: size }, () => null),
    };
  },

  async onStart(s, ctx) {
    sendHalos(s, ctx);
    await advance(s, ctx);
  },

  async onMessage(s, { from, data }, ctx) {
    if (data.residual !== undefined) {
      s.residuals[from] = data.residual;
    } else {
      const p = (s.pending[data.it] ??= {});
      p[data.side] = data.row;
    }
    await advance(s, ctx);
  },
};
