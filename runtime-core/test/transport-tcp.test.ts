import { afterEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { freePorts } from "../src/launcher/tcp-job.js";
import { FrameKind, type InboundFrame, type TransportEvents } from "../src/spi.js";
import {
  countBytes,
  encodeFrame,
  FrameDecoder,
  handshakeMac,
  newNonce,
  TcpTransport,
  WireKind,
  type PeerAddress,
  type TcpTransportOptions,
  type WireFrame,
} from "../src/transport/index.js";

const SECRET = "job-secret-for-tests";
const EMPTY = new Uint8Array(0);
const open: TcpTransport[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

interface Recorder {
  frames: InboundFrame[];
  events: string[];
  logs: string[];
  handlers: TransportEvents;
  /** Resolves when `n` frames have arrived in total. */
  waitFrames(n: number): Promise<void>;
  waitEvent(e: string): Promise<void>;
}

function recorder(): Recorder {
  const r: Recorder = {
    frames: [],
    events: [],
    logs: [],
    handlers: {
      frame: (f) => r.frames.push(f),
      peerIncarnation: (rank, inc) => r.events.push(`inc(${rank},${inc})`),
      peerDown: (rank) => r.events.push(`down(${rank})`),
    },
    waitFrames: (n) => until(() => r.frames.length >= n),
    waitEvent: (e) => until(() => r.events.includes(e)),
  };
  return r;
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error("timed out waiting");
    await new Promise((res) => setTimeout(res, 5));
  }
}

/** Start `size` transports on ephemeral ports and connect them. */
async function cluster(size: number, extra: Partial<TcpTransportOptions> = {}): Promise<{ ts: TcpTransport[]; recs: Recorder[]; peers: PeerAddress[] }> {
  const recs = Array.from({ length: size }, () => recorder());
  const ts: TcpTransport[] = [];
  for (let rank = 0; rank < size; rank++) {
    const rec = recs[rank]!;
    const t = await TcpTransport.listen({ rank, size, incarnation: 0, secret: SECRET, log: (_l, m) => rec.logs.push(m), ...extra });
    t.on(rec.handlers);
    ts.push(t);
    open.push(t);
  }
  const peers = ts.map((t) => t.address);
  for (const t of ts) t.connect(peers);
  await Promise.all(ts.map((t) => t.waitForPeers()));
  return { ts, recs, peers };
}

function u32(n: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
const readU32 = (b: Uint8Array): number => Buffer.from(b.buffer, b.byteOffset, b.byteLength).readUInt32BE(0);

/** A hand-rolled dialer that authenticates as `rank` and then lets the test write raw bytes. */
async function rawDialer(port: number, rank: number, listenerRank: number, size: number, secret = SECRET): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect({ host: "127.0.0.1", port });
  await new Promise<void>((res, rej) => socket.once("connect", res).once("error", rej));
  let isClosed = false;
  const closed = new Promise<void>((res) => socket.once("close", () => res()));
  void closed.then(() => (isClosed = true));
  const dec = new FrameDecoder(1 << 20);
  const got: WireFrame[] = [];
  socket.on("data", (c: Buffer) => dec.push(c, (f) => got.push(f)));
  const nonce = newNonce();
  socket.write(encodeFrame({ kind: WireKind.Hello, tag: 0, from: rank, fromIncarnation: 0, piggyback: EMPTY, payload: nonce }));
  await until(() => got.length >= 1);
  const ch = got[0]!;
  const parties = {
    size,
    dialerRank: rank,
    dialerIncarnation: 0,
    listenerRank: listenerRank,
    listenerIncarnation: ch.fromIncarnation,
    dialerNonce: nonce,
    listenerNonce: ch.payload.subarray(0, 32),
  };
  // Auth = MAC + "frames received from you so far" (none: a new pair of incarnations).
  const auth = Buffer.concat([handshakeMac(Buffer.from(secret), "dialer", parties, 0), countBytes(0)]);
  socket.write(encodeFrame({ kind: WireKind.Auth, tag: 0, from: rank, fromIncarnation: 0, piggyback: EMPTY, payload: auth }));
  await until(() => got.length >= 2 || isClosed);
  if (got.length < 2) throw new Error("the listener closed the connection");
  expect(got[1]!.kind).toBe(WireKind.Welcome);
  return { socket, closed };
}

describe("TcpTransport in one process", () => {
  it("an incarnation number started twice: the peer's larger count is taken with a warning, not refused in a loop", async () => {
    const { ts, recs, peers } = await cluster(2);
    for (let i = 1; i <= 10; i++) ts[1]!.send(0, { kind: FrameKind.App, tag: i, piggyback: EMPTY, payload: u32(i) });
    await recs[0]!.waitFrames(10);
    await ts[1]!.close();
    await recs[0]!.waitEvent("down(1)");
    // A second process with the same rank and incarnation 0 (a manual restart that reused it).
    const logs: string[] = [];
    const again = await TcpTransport.listen({ rank: 1, size: 2, incarnation: 0, secret: SECRET, log: (_l, m) => logs.push(m) });
    open.push(again);
    again.on(recorder().handlers);
    again.connect([peers[0]!, again.address]);
    again.send(0, { kind: FrameKind.App, tag: 11, piggyback: EMPTY, payload: u32(11) });
    await recs[0]!.waitFrames(11);
    expect(recs[0]!.frames.map((f) => f.tag)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(logs.some((l) => /received 10 frames from incarnation 0, which wrote 0; was incarnation 0 started twice/.test(l))).toBe(true);
    expect(ts[0]!.stats.rejected).toBe(0);
  });

  it("round-trips App and Control frames in FIFO order, small and large", async () => {
    const { ts, recs } = await cluster(3);
    const big = new Uint8Array(1 << 20).map((_, i) => i * 7);
    for (let i = 0; i < 2000; i++) ts[2]!.send(0, { kind: FrameKind.App, tag: 0, piggyback: u32(i * 3), payload: u32(i) });
    ts[1]!.send(0, { kind: FrameKind.Control, tag: 0xf001, piggyback: EMPTY, payload: big });
    ts[0]!.send(2, { kind: FrameKind.Control, tag: 17, piggyback: Uint8Array.of(1), payload: EMPTY });
    await recs[0]!.waitFrames(2001);
    await recs[2]!.waitFrames(1);
    const from2 = recs[0]!.frames.filter((f) => f.from === 2);
    expect(from2.map((f) => readU32(f.payload))).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(from2.every((f, i) => readU32(f.piggyback) === i * 3 && f.kind === FrameKind.App && f.fromIncarnation === 0)).toBe(true);
    const control = recs[0]!.frames.find((f) => f.from === 1)!;
    expect(control).toMatchObject({ kind: FrameKind.Control, tag: 0xf001, from: 1 });
    expect(Buffer.compare(Buffer.from(control.payload), Buffer.from(big))).toBe(0);
    expect(recs[2]!.frames[0]).toMatchObject({ kind: FrameKind.Control, tag: 17, from: 0 });
    expect(recs.flatMap((r) => r.events)).toEqual([]); // incarnation-0 peers are not reported
    expect(ts[0]!.address.host).toBe("127.0.0.1");
  });

  it("enforces the maximum frame size on send and on receive", async () => {
    const { ts, recs } = await cluster(2, { maxFrameBytes: 1024 });
    expect(() => ts[1]!.send(0, { kind: FrameKind.App, tag: 0, piggyback: EMPTY, payload: new Uint8Array(2000) })).toThrow(/maxFrameBytes/);
    // A raw peer (rank 2 of 3 would be invalid here; use a fresh single listener) announcing a huge frame is cut off.
    const solo = await TcpTransport.listen({ rank: 0, size: 2, incarnation: 0, secret: SECRET, maxFrameBytes: 1024, log: () => {} });
    open.push(solo);
    const { socket, closed } = await rawDialer(solo.address.port, 1, 0, 2);
    const head = Buffer.alloc(24);
    encodeFrame({ kind: FrameKind.App, tag: 0, from: 1, fromIncarnation: 0, piggyback: EMPTY, payload: EMPTY }).copy(head, 0, 0, 24);
    head.writeUInt32BE(10_000, 20); // payload length over the limit
    socket.write(head);
    await closed;
    expect(solo.stats.rejected).toBe(1);
    // the first cluster is unaffected
    ts[1]!.send(0, { kind: FrameKind.App, tag: 0, piggyback: EMPTY, payload: new Uint8Array(900) });
    await recs[0]!.waitFrames(1);
  });

  it("rejects bad frames (garbage, bad CRC) on one connection while the others keep working", async () => {
    const { ts, recs } = await cluster(2);
    const garbage = connect({ host: "127.0.0.1", port: ts[0]!.address.port });
    const garbageClosed = new Promise((res) => garbage.once("close", res));
    garbage.on("error", () => {});
    garbage.write(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await garbageClosed;
    // an authenticated peer sending a corrupted frame: start a size-3 job where rank 2 is the raw dialer
    const logs: string[] = [];
    const t0 = await TcpTransport.listen({ rank: 0, size: 3, incarnation: 0, secret: SECRET, log: (_l, m) => logs.push(m) });
    open.push(t0);
    const rec = recorder();
    t0.on(rec.handlers);
    const { socket, closed } = await rawDialer(t0.address.port, 2, 0, 3);
    const good = encodeFrame({ kind: FrameKind.App, tag: 0, from: 2, fromIncarnation: 0, piggyback: EMPTY, payload: u32(5) });
    const bad = Buffer.from(good);
    bad[bad.length - 6]! ^= 0xff; // flip a payload byte: CRC mismatch
    socket.write(Buffer.concat([good, bad]));
    await closed;
    expect(rec.frames.map((f) => readU32(f.payload))).toEqual([5]);
    expect(logs.join("\n")).toMatch(/CRC mismatch/);
    expect(recs[0]!.logs.join("\n")).toMatch(/bad magic/);
    expect(ts[0]!.stats.rejected).toBe(1);
    ts[1]!.send(0, { kind: FrameKind.App, tag: 0, piggyback: EMPTY, payload: u32(1) });
    ts[0]!.send(1, { kind: FrameKind.App, tag: 0, piggyback: EMPTY, payload: u32(2) });
    await recs[0]!.waitFrames(1);
    await recs[1]!.waitFrames(1);
  });

  it("rejects a peer with the wrong secret, in both directions, and keeps serving the others", async () => {
    const recs = [recorder(), recorder(), recorder()];
    const mk = (rank: number, secret: string) => TcpTransport.listen({ rank, size: 3, incarnation: 0, secret, log: (_l, m) => recs[rank]!.logs.push(m), backoff: { initialMs: 50, maxMs: 200 } });
    const t0 = await mk(0, SECRET);
    const t1 = await mk(1, SECRET);
    const t2 = await mk(2, "wrong secret");
    open.push(t0, t1, t2);
    const peers = [t0.address, t1.address, t2.address];
    [t0, t1, t2].forEach((t, i) => {
      t.on(recs[i]!.handlers);
      t.connect(peers);
    });
    await until(() => t0.connectedPeers().length === 1 && t1.connectedPeers().length === 1);
    await until(() => t2.stats.rejected >= 2);
    expect(t0.connectedPeers()).toEqual([1]);
    expect(t2.connectedPeers()).toEqual([]);
    // rank 2 dials and rank 0/1 (listeners) find the dialer's MAC wrong; rank 2 sees the listener's MAC wrong first
    expect(recs[2]!.logs.join("\n")).toMatch(/authentication failed: the listener does not know the job secret/);
    t1.send(0, { kind: FrameKind.App, tag: 0, piggyback: EMPTY, payload: u32(9) });
    await recs[0]!.waitFrames(1);
    expect(recs[0]!.frames.map((f) => f.from)).toEqual([1]);
  });

  it("a forged Auth (no secret) is refused by the listener", async () => {
    const t0 = await TcpTransport.listen({ rank: 0, size: 2, incarnation: 0, secret: SECRET, log: () => {} });
    open.push(t0);
    await expect(rawDialer(t0.address.port, 1, 0, 2, "not the secret")).rejects.toThrow(/listener closed/);
    await until(() => t0.stats.rejected === 1);
    expect(t0.connectedPeers()).toEqual([]);
  });

  it("reconnects when a peer restarts: peerDown, buffered frames, then peerIncarnation and delivery in order", async () => {
    for (const restarted of [1, 0]) {
      const { ts, recs, peers } = await cluster(2, { backoff: { initialMs: 10, maxMs: 50 } });
      const survivor = 1 - restarted;
      await ts[restarted]!.close();
      await recs[survivor]!.waitEvent(`down(${restarted})`);
      for (let i = 0; i < 100; i++) ts[survivor]!.send(restarted, { kind: FrameKind.App, tag: 0, piggyback: EMPTY, payload: u32(i) });
      const rec = recorder();
      const again = await TcpTransport.listen({ rank: restarted, size: 2, incarnation: 1, secret: SECRET, peers, log: () => {}, backoff: { initialMs: 10, maxMs: 50 } });
      open.push(again);
      again.on(rec.handlers);
      expect(again.address.port).toBe(peers[restarted]!.port);
      await recs[survivor]!.waitEvent(`inc(${restarted},1)`);
      await rec.waitFrames(100);
      expect(rec.frames.map((f) => readU32(f.payload))).toEqual(Array.from({ length: 100 }, (_, i) => i));
      expect(recs[survivor]!.events).toEqual([`down(${restarted})`, `inc(${restarted},1)`]);
      again.send(survivor, { kind: FrameKind.App, tag: 0, piggyback: EMPTY, payload: u32(77) });
      await until(() => recs[survivor]!.frames.some((f) => f.fromIncarnation === 1));
      expect(rec.events).toEqual([]);
      await Promise.all(open.splice(0).map((t) => t.close()));
    }
  });

  it("bounds the buffer for an unreachable peer with a clear error", async () => {
    const t1 = await TcpTransport.listen({ rank: 1, size: 2, incarnation: 0, secret: SECRET, maxBufferedBytes: 1000, log: () => {} });
    open.push(t1);
    for (let i = 0; i < 12; i++) t1.send(0, { kind: FrameKind.App, tag: 0, piggyback: EMPTY, payload: new Uint8Array(50) }); // 78 bytes each on the wire
    expect(() => t1.send(0, { kind: FrameKind.App, tag: 0, piggyback: EMPTY, payload: new Uint8Array(50) })).toThrow(/unreachable.*maxBufferedBytes/);
  });

  it("declares a silent peer down after the heartbeat timeout", async () => {
    const t0 = await TcpTransport.listen({ rank: 0, size: 2, incarnation: 0, secret: SECRET, heartbeatMs: 30, timeoutMs: 120, log: () => {} });
    open.push(t0);
    const rec = recorder();
    t0.on(rec.handlers);
    const { socket } = await rawDialer(t0.address.port, 1, 0, 2);
    socket.pause(); // authenticated, then silent
    await rec.waitEvent("down(1)");
    expect(t0.connectedPeers()).toEqual([]);
    socket.destroy();
  });

  it("a rank whose port is busy for a moment retries and binds it", async () => {
    const [port] = await freePorts(1, "127.0.0.1");
    const holder = createServer();
    await new Promise<void>((r) => holder.listen({ port: port!, host: "127.0.0.1", exclusive: true }, () => r()));
    const logs: string[] = [];
    const pending = TcpTransport.listen({ rank: 0, size: 1, incarnation: 0, secret: SECRET, port: port!, log: (_l, m) => logs.push(m) });
    await until(() => logs.some((m) => m.includes("busy")));
    await new Promise((r) => holder.close(r));
    const t = await pending;
    open.push(t);
    expect(t.address.port).toBe(port);
  });
});

describe("freePorts (the launcher's port pick)", () => {
  it("gives distinct free ports below the kernel's ephemeral range, where no outgoing connection can take them", async () => {
    const ports = await freePorts(8, "127.0.0.1");
    expect(new Set(ports).size).toBe(8);
    let lo = 49152;
    try {
      lo = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    } catch {
      // not Linux: the IANA range
    }
    if (lo - 20000 >= 32) for (const p of ports) expect(p).toBeLessThan(lo);
    // Free: each can be bound now.
    for (const p of ports) {
      const s = createServer();
      await new Promise<void>((r) => s.listen({ port: p, host: "127.0.0.1", exclusive: true }, () => r()));
      await new Promise((r) => s.close(r));
    }
  });
});
