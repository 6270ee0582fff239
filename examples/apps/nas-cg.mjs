// nas-cg: a NAS-CG-like kernel. Conjugate gradient on A x = b, where A is the
// banded SPD matrix with 2K+1 on the diagonal and -1 on the K off-diagonals
// each side (K = 6: 13 nonzeros per row, like NAS CG's sparse rows), b = 1.
// The N unknowns (args[0], default 100000 per rank) are split into blocks,
// one per rank; it runs a fixed number of iterations (args[1], default 100).
// Per iteration a rank exchanges K halo values of p with its neighbours, does
// the matrix-vector product and the vector updates on its block (compute for
// a few ms), and takes part in two allreduces (p.q and r.r: every rank sends
// its partial sum to every other one, and all sum the partials in rank order,
// so every rank gets the same bits every run). Writes { rank, iterations,
// rnorm, xsum } at the end.

const K = 6;

function block(rank, size, n) {
  const base = Math.floor(n / size);
  const extra = n % size;
  return { first: rank * base + Math.min(rank, extra), len: base + (rank < extra ? 1 : 0) };
}

function sendHalos(s, ctx) {
  // p lives in s.p[K .. K+len-1]; halos in [0, K) and [K+len, 2K+len).
  if (s.rank > 0) ctx.send(s.rank - 1, { it: s.it, ph: "hr", v: Array.from(s.p.subarray(K, 2 * K)) });
  if (s.rank < s.size - 1) ctx.send(s.rank + 1, { it: s.it, ph: "hl", v: Array.from(s.p.subarray(s.len, s.len + K)) });
}

function allreduce(s, ctx, ph, partial) {
  got(s, s.it, ph)[s.rank] = partial;
  for (let to = 0; to < s.size; to++) if (to !== s.rank) ctx.send(to, { it: s.it, ph, v: partial });
}

function got(s, it, ph) {
  const key = `${it}:${ph}`;
  return (s.inbox[key] ??= {});
}

function take(s, ph, need) {
  const key = `${s.it}:${ph}`;
  const m = s.inbox[key];
  if (m === undefined || Object.keys(m).length < need) return null;
  delete s.inbox[key];
  return m;
}

function sumInRankOrder(s, m) {
  let t = 0;
  for (let r = 0; r < s.size; r++) t += m[r];
  return t;
}

function matvec(s) {
  // q = A p over the block; p's halos are zero at the global boundary.
  const { p, q, len } = s;
  let pq = 0;
  for (let i = 0; i < len; i++) {
    const c = i + K;
    let acc = (2 * K + 1) * p[c];
    for (let k = 1; k <= K; k++) acc -= p[c - k] + p[c + k];
    q[i] = acc;
    pq += p[c] * acc;
  }
  return pq;
}

async function advance(s, ctx) {
  for (;;) {
    if (s.it === s.iterations) break;
    if (s.phase === "halo") {
      const need = (s.rank > 0 ? 1 : 0) + (s.rank < s.size - 1 ? 1 : 0);
      const m = take(s, "halo", need);
      if (m === null) return;
      if (m.hl) s.p.set(m.hl, 0);
      if (m.hr) s.p.set(m.hr, K + s.len);
      allreduce(s, ctx, "pq", matvec(s));
      s.phase = "pq";
    } else if (s.phase === "pq") {
      const m = take(s, "pq", s.size);
      if (m === null) return;
      const alpha = s.rr / sumInRankOrder(s, m);
      let rr = 0;
      for (let i = 0; i < s.len; i++) {
        s.x[i] += alpha * s.p[i + K];
        const ri = s.r[i] - alpha * s.q[i];
        s.r[i] = ri;
        rr += ri * ri;
      }
      allreduce(s, ctx, "rr", rr);
      s.phase = "rr";
    } else {
      const m = take(s, "rr", s.size);
      if (m === null) return;
      const rrNew = sumInRankOrder(s, m);
      const beta = rrNew / s.rr;
      s.rr = rrNew;
      for (let i = 0; i < s.len; i++) s.p[i + K] = s.r[i] + beta * s.p[i + K];
      s.it++;
      s.phase = "halo";
      if (s.it < s.iterations) {
        got(s, s.it, "halo");
        sendHalos(s, ctx);
      }
    }
  }
  if (!s.written) {
    s.written = true;
    let xsum = 0;
    for (let i = 0; i < s.len; i++) xsum += s.x[i];
    await ctx.write({ rank: s.rank, iterations: s.it, rnorm: Math.sqrt(s.rr), xsum });
    ctx.done();
  }
}

export default {
  init({ rank, size, args }) {
    const perRank = Number(args[0] ?? 100000);
    const iterations = Number(args[1] ?? 100);
    const { len } = block(rank, size, perRank * size);
    const x = new Float64Array(len);
    const r = new Float64Array(len).fill(1); // r = b - A*0 = b = 1
    const p = new Float64Array(len + 2 * K);
    p.set(r, K);
    // r.r over the whole vector is known without communication: N * 1.
    return {
      rank, size, len, iterations, x, r, p, q: new Float64Array(len),
      rr: perRank * size, it: 0, phase: "halo", inbox: {}, written: false,
    };
  },

  async onStart(s, ctx) {
    if (s.iterations > 0) {
      got(s, 0, "halo");
      sendHalos(s, ctx);
    }
    await advance(s, ctx);
  },

  async onMessage(s, { from, data }, ctx) {
    if (data.ph === "hl" || data.ph === "hr") got(s, data.it, "halo")[data.ph] = data.v;
    else got(s, data.it, data.ph)[from] = data.v;
    await advance(s, ctx);
  },
};
