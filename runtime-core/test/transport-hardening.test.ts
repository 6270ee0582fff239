/**
 * TcpTransport against hostile or unlucky surroundings: a flood of idle
 * unauthenticated connections, a process squatting a rank's port, a dial
 * stuck on a silent squatter.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connect, createServer, type Server, type Socket } from "node:net";
import { freePorts } from "../src/launcher/tcp-job.js";
import { FrameKind, type InboundFrame } from "../src/spi.js";
import { TcpTransport, type TcpLogLevel } from "../src/transport/index.js";

const SECRET = "job-secret-for-hardening-tests";
const EMPTY = new Uint8Array(0);
const open: TcpTransport[] = [];
const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(open.splice(0).map((t) => t.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error("timed out waiting");
    await new Promise((res) => setTimeout(res, 5));
  }
}

interface Logged {
  level: TcpLogLevel;
  msg: string;
}

/** A server on `port` (0 = any) that accepts connections and never says a word. */
async function silentServer(port = 0): Promise<{ server: Server; port: number; accepted: Socket[]; closed: () => number }> {
  const accepted: Socket[] = [];
  let closed = 0;
  const server = createServer((s) => {
    accepted.push(s);
    sockets.push(s);
    s.on("error", () => {});
    s.on("close", () => closed++);
    s.resume(); // read (and ignore) what the caller says, so its close is seen
  });
  await new Promise<void>((r) => server.listen({ host: "127.0.0.1", port, exclusive: true }, () => r()));
  servers.push(server);
  const a = server.address();
  return { server, port: typeof a === "object" && a ? a.port : 0, accepted, closed: () => closed };
}

describe("unauthenticated connections", () => {
  it("are capped and their refusals logged in bounded form, while two ranks still connect and exchange frames", async () => {
    const logs: Logged[] = [];
    const t0 = await TcpTransport.listen({ rank: 0, size: 2, incarnation: 0, secret: SECRET, handshakeTimeoutMs: 1500, log: (level, msg) => logs.push({ level, msg }) });
    open.push(t0);
    const got: InboundFrame[] = [];
    t0.on({ frame: (f) => got.push(f), peerIncarnation: () => {} });
    // Sample the pre-auth count all along: it must never exceed the default limit max(8, 2 × size).
    let maxPending = 0;
    const sampler = setInterval(() => (maxPending = Math.max(maxPending, t0.pendingHandshakes)), 1);

    const FLOOD = 300;
    let closedByServer = 0;
    const flood = Array.from(
      { length: FLOOD },
      () =>
        new Promise<void>((res) => {
          const s = connect({ host: "127.0.0.1", port: t0.address.port });
          sockets.push(s);
          s.on("error", () => {});
          s.once("connect", () => res());
          s.once("close", () => {
            closedByServer++;
            res();
          });
        }),
    );
    // Rank 1 dials rank 0 in the middle of the flood.
    const logs1: Logged[] = [];
    const t1 = await TcpTransport.listen({ rank: 1, size: 2, incarnation: 0, secret: SECRET, log: (level, msg) => logs1.push({ level, msg }) });
    open.push(t1);
    const got1: InboundFrame[] = [];
    t1.on({ frame: (f) => got1.push(f), peerIncarnation: () => {} });
    t1.connect([t0.address, t1.address]);
    await Promise.all(flood);
    await t1.waitForPeers(10_000);
    for (let i = 0; i < 20; i++) t1.send(0, { kind: FrameKind.App, tag: i, piggyback: EMPTY, payload: Uint8Array.of(i) });
    t0.send(1, { kind: FrameKind.App, tag: 7, piggyback: EMPTY, payload: Uint8Array.of(42) });
    await until(() => got.length === 20 && got1.length === 1);
    expect(got.map((f) => f.tag)).toEqual([...Array(20).keys()]);
    expect([...got1[0]!.payload]).toEqual([42]);

    // All but the newest few idle sockets were evicted at once; the rest go at the handshake timeout.
    await until(() => closedByServer >= FLOOD - 8);
    await until(() => closedByServer === FLOOD);
    clearInterval(sampler);
    expect(maxPending).toBeGreaterThan(0);
    expect(maxPending).toBeLessThanOrEqual(8);
    expect(t0.stats.dropped).toBeGreaterThanOrEqual(FLOOD - 8);
    expect(t0.connectedPeers()).toEqual([1]);

    await t0.close();
    // Every refusal is accounted for: a few lines one by one, the rest in summary lines.
    const warns = logs.filter((l) => l.level !== "info").map((l) => l.msg);
    const single = warns.filter((m) => /dropping unauthenticated connection|closing connection/.test(m));
    const summaries = warns.filter((m) => /more unauthenticated connections refused by rank 0/.test(m));
    expect(warns.length).toBe(single.length + summaries.length);
    // One 10 s window: 5 lines and one summary; a loaded machine may span two windows.
    expect(warns.length).toBeLessThanOrEqual(12);
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    const summarized = summaries.reduce((a, m) => a + Number(/^(\d+) more/.exec(m)![1]), 0);
    expect(single.length + summarized).toBe(t0.stats.dropped + t0.stats.rejected);
    expect(t0.stats.dropped + t0.stats.rejected).toBeGreaterThanOrEqual(FLOOD);
  }, 30_000);
});

describe("port squatting", () => {
  it('onPortBusy "any": a taken port is left for a free one at once', async () => {
    const { port } = await silentServer();
    const logs: Logged[] = [];
    const t = await TcpTransport.listen({ rank: 0, size: 1, incarnation: 0, secret: SECRET, port, onPortBusy: "any", log: (level, msg) => logs.push({ level, msg }) });
    open.push(t);
    expect(t.address.port).not.toBe(port);
    expect(logs.some((l) => l.level === "warn" && l.msg.includes(`127.0.0.1:${port} is in use by another process`))).toBe(true);
  });

  it("retrying a busy port (the default) adds no listener per attempt (no MaxListenersExceededWarning)", async () => {
    const [port] = await freePorts(1, "127.0.0.1");
    const holder = createServer();
    await new Promise<void>((r) => holder.listen({ port: port!, host: "127.0.0.1", exclusive: true }, () => r()));
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      const logs: string[] = [];
      const pending = TcpTransport.listen({ rank: 0, size: 1, incarnation: 0, secret: SECRET, port: port!, log: (_l, m) => logs.push(m) });
      // Retries back off from 50 ms to 500 ms: more than 10 attempts fit in 5 s.
      await new Promise((r) => setTimeout(r, 5000));
      await new Promise((r) => holder.close(r));
      const t = await pending;
      open.push(t);
      expect(t.address.port).toBe(port);
      expect(logs.filter((m) => m.includes("busy"))).toHaveLength(1);
      await new Promise((r) => setImmediate(r));
      expect(warnings).not.toContain("MaxListenersExceededWarning");
    } finally {
      process.off("warning", onWarning);
    }
  }, 20_000);

  it("a busy port that stays busy fails with one clear message", async () => {
    const { port } = await silentServer();
    const err = await TcpTransport.listen({ rank: 3, size: 4, incarnation: 0, secret: SECRET, port, log: () => {} }).catch((e: Error) => e);
    expect((err as Error).message).toBe(`rank 3: cannot listen on 127.0.0.1:${port}: EADDRINUSE (in use by another process for 10 s: free it or pick another port)`);
  }, 20_000);

  it("a restarted peer announced on its old address is dialed at once, not after the re-dial backoff", async () => {
    // Re-dial backoff of 2 s and more: a connection within a second can only come from the notice.
    const backoff = { initialMs: 2000, maxMs: 8000 };
    const t0 = await TcpTransport.listen({ rank: 0, size: 2, incarnation: 0, secret: SECRET, log: () => {} });
    const t1 = await TcpTransport.listen({ rank: 1, size: 2, incarnation: 0, secret: SECRET, backoff, log: () => {} });
    open.push(t1);
    const addr = t0.address;
    t1.connect([addr, t1.address]);
    await t1.waitForPeers(10_000);
    // Rank 0 dies: rank 1 re-dials, is refused, and waits out its backoff.
    await t0.close();
    await until(() => t1.connectedPeers().length === 0);
    await new Promise((r) => setTimeout(r, 100));
    const again = await TcpTransport.listen({ rank: 0, size: 2, incarnation: 1, secret: SECRET, port: addr.port, log: () => {} });
    open.push(again);
    const told = performance.now();
    t1.setPeerAddress(0, addr);
    await until(() => t1.connectedPeers().length === 1, 1000);
    expect(performance.now() - told).toBeLessThan(1000);
  });

  it("a new address for a peer abandons a dial stuck on a silent squatter", async () => {
    const squatter = await silentServer();
    const t0 = await TcpTransport.listen({ rank: 0, size: 2, incarnation: 0, secret: SECRET, log: () => {} });
    open.push(t0);
    // A handshake timeout far beyond the test: only abandoning the stuck dial can connect rank 1.
    const t1 = await TcpTransport.listen({ rank: 1, size: 2, incarnation: 0, secret: SECRET, handshakeTimeoutMs: 120_000, log: () => {} });
    open.push(t1);
    t1.connect([{ host: "127.0.0.1", port: squatter.port }, t1.address]);
    await until(() => squatter.accepted.length === 1);
    t1.setPeerAddress(0, t0.address);
    await t1.waitForPeers(10_000);
    expect(t1.connectedPeers()).toEqual([0]);
    // The stuck connection was closed by rank 1, not left to its handshake timeout.
    await until(() => squatter.closed() === 1);
  });
});
