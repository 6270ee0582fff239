// stream: throughput-bound one-way streaming. Ranks pair up (0->1, 2->3, ...;
// an odd last rank idles). Each sender streams N small messages (args[0],
// default 100000) to its receiver with at most W unacknowledged (args[1],
// default 256); the receiver acknowledges every W/2 messages with the count
// it has received. The receiver folds every value into an FNV-1a digest in
// arrival order and writes { rank, received, digest }; the sender writes
// { rank, sent } once the last acknowledgement arrives. Deterministic: the
// values and their per-channel order are fixed.

function fnv(h, n) {
  for (let i = 0; i < 4; i++) {
    h ^= (n >>> (i * 8)) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function value(i) {
  return Math.imul(i, 0x9e3779b1) >>> 0;
}

function pump(s, ctx) {
  while (s.sent < s.n && s.sent - s.acked < s.window) {
    ctx.send(s.peer, { i: s.sent, v: value(s.sent) });
    s.sent++;
  }
}

export default {
  init({ rank, size, args }) {
    const n = Number(args[0] ?? 100000);
    const window = Math.max(2, Number(args[1] ?? 256));
    const sender = rank % 2 === 0;
    const peer = sender ? rank + 1 : rank - 1;
    return {
      rank, n, window, peer, sender,
      idle: peer >= size,
      ackEvery: Math.max(1, Math.floor(window / 2)),
      sent: 0, acked: 0, received: 0, digest: 0x811c9dc5, written: false,
    };
  },

  async onStart(s, ctx) {
    if (s.idle || s.n === 0) {
      if (!s.idle && !s.written) {
        s.written = true;
        await ctx.write(s.sender ? { rank: s.rank, sent: 0 } : { rank: s.rank, received: 0, digest: s.digest });
      }
      ctx.done();
      return;
    }
    if (s.sender) pump(s, ctx);
  },

  // Synchronous except for the final write: the streaming path stays on the
  // protocols' synchronous delivery path, as a tight consumer loop would.
  onMessage(s, { data }, ctx) {
    if (s.sender) {
      s.acked = data.ack;
      pump(s, ctx);
      if (s.acked === s.n && !s.written) {
        s.written = true;
        return ctx.write({ rank: s.rank, sent: s.sent }).then(() => ctx.done());
      }
      return undefined;
    }
    if (data.i !== s.received) throw new Error(`stream: rank ${s.rank} expected message ${s.received}, got ${data.i}`);
    s.digest = fnv(s.digest, data.v);
    s.received++;
    if (s.received % s.ackEvery === 0 || s.received === s.n) ctx.send(s.peer, { ack: s.received });
    if (s.received === s.n && !s.written) {
      s.written = true;
      return ctx.write({ rank: s.rank, received: s.received, digest: s.digest }).then(() => ctx.done());
    }
    return undefined;
  },
};
