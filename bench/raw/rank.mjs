// One rank of the hand-written baseline (see launch.mjs). One TCP connection
// per pair of ranks (the lower rank connects and says who it is), frames are
// a 4-byte big-endian length then v8.serialize(data). Deliveries run one at a
// time in arrival order; an onMessage that returns a promise is awaited
// before the next one, as egida's runtime does.
import { connect, createServer } from "node:net";
import { deserialize, serialize } from "node:v8";
import { pathToFileURL } from "node:url";

const [rankArg, sizeArg, appPath, ...args] = process.argv.slice(2);
const rank = Number(rankArg);
const size = Number(sizeArg);
const app = (await import(pathToFileURL(appPath).href)).default;
const sockets = new Array(size).fill(null);
const queue = [];
const outputs = [];
let messages = 0;
let draining = false;
let started = false;
let finished = false;

function frame(data) {
  const body = serialize(data);
  const buf = Buffer.allocUnsafe(4 + body.length);
  buf.writeUInt32BE(body.length, 0);
  body.copy(buf, 4);
  return buf;
}

const ctx = {
  rank,
  size,
  send(to, data) {
    messages++;
    sockets[to].write(frame(data));
  },
  read(produce) {
    return Promise.resolve(produce());
  },
  write(data) {
    outputs.push(data);
    return Promise.resolve();
  },
  done() {
    if (finished) return;
    finished = true;
    // After the delivery in progress: its sends are already queued on the sockets.
    queueMicrotask(() => process.send({ t: "done", messages, outputs }));
  },
};

const state = app.init({ rank, size, args });

async function drain() {
  if (draining || !started) return;
  draining = true;
  while (queue.length > 0) {
    const m = queue.shift();
    const r = app.onMessage(state, m, ctx);
    if (r !== undefined && typeof r.then === "function") await r;
  }
  draining = false;
}

function attach(sock, from) {
  sockets[from] = sock;
  sock.setNoDelay(true);
  let pending = Buffer.alloc(0);
  sock.on("data", (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    while (pending.length - at >= 4) {
      const len = pending.readUInt32BE(at);
      if (pending.length - at - 4 < len) break;
      queue.push({ from, data: deserialize(pending.subarray(at + 4, at + 4 + len)) });
      at += 4 + len;
    }
    pending = pending.subarray(at);
    void drain();
  });
  sock.on("error", (e) => {
    process.stderr.write(`raw rank ${rank}: connection with rank ${from}: ${e.message}\n`);
    process.exit(1);
  });
}

let connected = 0;
async function maybeStart() {
  if (++connected < size - 1) return;
  started = true;
  if (app.onStart) await app.onStart(state, ctx);
  await drain();
}

const server = createServer((sock) => {
  // The first 4 bytes on an accepted connection say which rank connected.
  sock.once("readable", function first() {
    const head = sock.read(4);
    if (head === null) return void sock.once("readable", first);
    attach(sock, head.readUInt32BE(0));
    void maybeStart();
  });
});

process.on("message", (m) => {
  if (m.t === "peers") {
    for (let to = rank + 1; to < size; to++) {
      const sock = connect(m.ports[to], "127.0.0.1", () => {
        const head = Buffer.alloc(4);
        head.writeUInt32BE(rank, 0);
        sock.write(head);
        attach(sock, to);
        void maybeStart();
      });
    }
    if (size === 1) void maybeStart();
  } else if (m.t === "exit") {
    process.exit(0);
  }
});

server.listen(0, "127.0.0.1", () => process.send({ t: "port", port: server.address().port }));
