// all-to-all: R rounds (args[0], default 20). In each round every rank sends
// one message to every other rank. A rank keeps one running digest per
// channel (FNV-1a over each message in arrival order on that channel), so its
// state depends on the per-channel delivery order, and starts round r+1 once
// it has every message of round r. The value it sends in round r+1 combines
// the round-r messages order-independently, so the run is deterministic.
// Writes { rank, channels: [digest per source], total } at the end.
// onMessage is synchronous except for the delivery that writes: a handler may
// return nothing, and then its delivery settles without an await (the
// protocols' synchronous delivery path, which the crash campaign exercises
// through this app).

function fnv(h, n) {
  // FNV-1a over the 4 bytes of n.
  for (let i = 0; i < 4; i++) {
    h ^= (n >>> (i * 8)) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function sendRound(s, ctx) {
  const value = fnv(s.roundSum[s.round] ?? 0x811c9dc5, s.rank + s.round * 1000);
  for (let to = 0; to < s.size; to++) if (to !== s.rank) ctx.send(to, { round: s.round, value });
}

/** Returns a promise only when it writes, so most deliveries stay synchronous. */
function finishIfDone(s, ctx) {
  while (s.round < s.rounds && (s.received[s.round] ?? 0) === s.size - 1) {
    s.round++;
    if (s.round < s.rounds) sendRound(s, ctx);
  }
  if (s.round === s.rounds && !s.written) {
    s.written = true;
    const total = s.channels.reduce((h, d) => fnv(h, d), 0x811c9dc5);
    return ctx.write({ rank: s.rank, channels: s.channels, total }).then(() => ctx.done());
  }
  return undefined;
}

export default {
  init({ rank, size, args }) {
    return {
      rank,
      size,
      rounds: Number(args[0] ?? 20),
      round: 0,
      channels: Array.from({ length: size }, () => 0x811c9dc5),
      received: [], // per round: messages received
      roundSum: [], // per round: order-independent sum of values (mod 2^32)
      written: false,
    };
  },

  async onStart(s, ctx) {
    if (s.size === 1) s.round = s.rounds;
    else sendRound(s, ctx);
    await finishIfDone(s, ctx);
  },

  onMessage(s, { from, data }, ctx) {
    s.channels[from] = fnv(fnv(s.channels[from], data.round), data.value);
    s.received[data.round] = (s.received[data.round] ?? 0) + 1;
    s.roundSum[data.round + 1] = ((s.roundSum[data.round + 1] ?? 0) + data.value) >>> 0;
    return finishIfDone(s, ctx);
  },
};
