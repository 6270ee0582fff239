/**
 * SimWorld `wire: "tcp"`: every rank runs the real TcpTransport (handshake,
 * codec, CRC, write coalescing, failure detection, re-dial with backoff)
 * over the simulator's in-memory sockets, on its virtual clock.
 */
import { describe, expect, it } from "vitest";
import { FrameKind, type Frame, type InboundFrame, type Transport } from "../src/spi.js";
import { SimWorld } from "../src/sim/index.js";
import { TcpTransport } from "../src/transport/tcp.js";

function frame(n: number, bytes = 5): Frame {
  const payload = new Uint8Array(bytes).fill(7);
  payload[0] = n & 0xff;
  return { kind: FrameKind.App, tag: n & 0xffff, piggyback: new Uint8Array(new Uint32Array([n]).buffer), payload };
}

interface Seen {
  frames: InboundFrame[];
  events: string[];
}

function listen(t: Transport, log: string[] = []): Seen {
  const seen: Seen = { frames: [], events: log };
  t.on({
    frame: (f) => seen.frames.push(f),
    peerIncarnation: (r, inc) => seen.events.push(`inc ${r}@${inc}`),
    peerDown: (r) => seen.events.push(`down ${r}`),
  });
  return seen;
}

const tags = (fs: readonly InboundFrame[]): number[] => fs.map((f) => f.tag);

describe("SimWorld wire tcp", () => {
  it("runs TcpTransport itself: handshakes, then frames in order, large and small", async () => {
    const world = new SimWorld({ size: 3, seed: 5, wire: "tcp" });
    expect(world.endpoint(1)).toBeInstanceOf(TcpTransport);
    const at2 = listen(world.endpoint(2));
    listen(world.endpoint(0));
    listen(world.endpoint(1));
    // Sent before any connection exists: TcpTransport buffers and flushes after the handshake.
    for (let i = 1; i <= 40; i++) world.endpoint(0).send(2, frame(i, i % 10 === 0 ? 70_000 : 5));
    await world.run();
    expect(tags(at2.frames)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(at2.frames[9]!.payload.byteLength).toBe(70_000);
    expect(at2.frames.every((f) => f.from === 0 && f.fromIncarnation === 0)).toBe(true);
    const net = world.netStats!;
    expect(net.accepted).toBe(3); // one connection per pair, dialed by the higher rank
    // 12 handshake writes and one coalesced (corked) write of the 40 frames, some of them cut into chunks.
    expect(net.chunks).toBeGreaterThan(13);
    expect(world.tcpLog.warn + world.tcpLog.error).toBe(0);
    expect((world.endpoint(2) as TcpTransport).connectedPeers()).toEqual([0, 1]);
  });

  it("a reset mid-stream: both sides see the connection close, the higher rank re-dials, nothing is lost", async () => {
    const world = new SimWorld({ size: 2, seed: 9, wire: "tcp" });
    const at0 = listen(world.endpoint(0));
    const at1 = listen(world.endpoint(1));
    await world.run();
    const before = world.netStats!.dials;
    for (let i = 1; i <= 20; i++) world.endpoint(1).send(0, frame(i, 200));
    await world.run({ until: world.now + 0.02 }); // the flush has run; bytes are in flight
    expect(world.resetConnection(1, 0, "cut")).toBe(1);
    await world.run();
    expect(at0.events).toContain("down 1");
    expect(at1.events).toContain("down 0");
    expect(world.netStats!.resets).toBe(1);
    expect(world.netStats!.dials).toBeGreaterThan(before); // re-dialed
    expect((world.endpoint(1) as TcpTransport).connectedPeers()).toEqual([0]);
    // Frames in flight at the reset were resent on the new connection, in order, once.
    expect(tags(at0.frames)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((world.endpoint(1) as TcpTransport).stats.resent).toBeGreaterThan(0);
    // The new connection starts clean: the cut frame's bytes do not run into it.
    for (let i = 21; i <= 25; i++) world.endpoint(1).send(0, frame(i));
    await world.run();
    expect(tags(at0.frames).slice(-5)).toEqual([21, 22, 23, 24, 25]);
  });

  it("a crash: peers see peerDown, the restarted rank is re-dialed and reported as a new incarnation", async () => {
    const world = new SimWorld({ size: 3, seed: 2, wire: "tcp", crashTail: { cut: 0.5, corrupt: 0.5 } });
    const log0: string[] = [];
    const log2: string[] = [];
    const at0 = listen(world.endpoint(0), log0);
    listen(world.endpoint(1));
    listen(world.endpoint(2), log2);
    await world.run();
    for (let i = 1; i <= 10; i++) world.endpoint(1).send(0, frame(i, 3000));
    await world.run({ until: world.now + 0.02 });
    world.crash(1);
    const damaged = world.netStats!.cut + world.netStats!.corrupted;
    expect(damaged).toBe(1); // the last chunk rank 1 had in flight to rank 0
    await world.run({ until: world.now + 5 });
    expect(log0).toContain("down 1");
    expect(log2).toContain("down 1");
    const at1 = listen(world.restart(1, 1) && world.endpoint(1));
    world.endpoint(1).send(0, frame(99));
    await world.run();
    expect(log0).toContain("inc 1@1");
    expect(log2).toContain("inc 1@1");
    expect(at0.frames.at(-1)!.tag).toBe(99);
    expect(at0.frames.at(-1)!.fromIncarnation).toBe(1);
    // Only whole, valid frames from incarnation 0 got through before it.
    expect(tags(at0.frames.filter((f) => f.fromIncarnation === 0))).toEqual(Array.from({ length: at0.frames.length - 1 }, (_, i) => i + 1));
    expect((world.endpoint(1) as TcpTransport).connectedPeers()).toEqual([0, 2]);
    void at1;
  });

  it("a rank down for a while is re-dialed with backoff until it is back", async () => {
    const world = new SimWorld({ size: 2, seed: 4, wire: "tcp", backoff: { initialMs: 10, maxMs: 80 } });
    listen(world.endpoint(0));
    listen(world.endpoint(1));
    await world.run();
    world.crash(0);
    const dials = world.netStats!.dials;
    const refusedBefore = world.netStats!.refused;
    world.at(world.now + 500, () => listen(world.restart(0, 1) && world.endpoint(0)));
    await world.run({ until: world.now + 1000 });
    const refused = world.netStats!.refused - refusedBefore;
    // 10, 20, 40, 80, 80, ... ms apart: about 500 / 80 + 4 refused dials, not hundreds.
    expect(refused).toBeGreaterThanOrEqual(5);
    expect(refused).toBeLessThanOrEqual(12);
    expect(world.netStats!.dials - dials).toBe(refused + 1);
    expect((world.endpoint(1) as TcpTransport).connectedPeers()).toEqual([0]);
  });

  it("refuses an injected net together with TLS (TLS runs over node:net sockets)", () => {
    const net = { createServer: () => { throw new Error("unused"); }, connect: () => { throw new Error("unused"); } };
    expect(() => TcpTransport.open({ rank: 0, size: 1, incarnation: 0, secret: "s".repeat(16), net, tls: { cert: "", key: "", ca: "" } })).toThrow(/tls and net cannot be combined/);
  });

  it("is deterministic: the same seed gives the same run", async () => {
    const once = async (): Promise<string> => {
      const world = new SimWorld({ size: 3, seed: 77, wire: "tcp", crashTail: { cut: 0.3, corrupt: 0.3 } });
      const seen = [0, 1, 2].map((r) => listen(world.endpoint(r)));
      for (let i = 1; i <= 30; i++) world.endpoint(i % 3).send((i + 1) % 3, frame(i, 100 * i));
      await world.run({ until: 1.5 });
      world.crash(2);
      world.resetConnection(1, 0, "corrupt");
      world.at(world.now + 3, () => world.restart(2, 1));
      await world.run({ until: 200 });
      for (let i = 31; i <= 40; i++) world.endpoint(i % 3).send((i + 2) % 3, frame(i));
      await world.run();
      return JSON.stringify({ t: world.now, steps: world.stats.steps, net: world.netStats, seen: seen.map((s) => [tags(s.frames), s.events]) });
    };
    const a = await once();
    expect(await once()).toBe(a);
  });
});

describe("SimWorld wire tcp: heartbeats", () => {
  it("a partition that closes nothing is found by the heartbeat timeout; the link comes back after it heals", async () => {
    const world = new SimWorld({ size: 2, seed: 6, wire: "tcp", heartbeatMs: 10, backoff: { initialMs: 5, maxMs: 20 } });
    const at0 = listen(world.endpoint(0));
    const at1 = listen(world.endpoint(1));
    await world.run({ until: 50 });
    expect((world.endpoint(1) as TcpTransport).connectedPeers()).toEqual([0]);
    expect(at0.events).toEqual([]); // heartbeats keep an idle link up
    world.partition(0, 1, 100);
    world.endpoint(1).send(0, frame(1)); // held by the partition, resent after it heals
    await world.run({ until: 90 });
    // Nothing closed the connection: only the timeout (3 × 10 ms without bytes) declares the peer down.
    expect(at0.events).toContain("down 1");
    expect(at1.events).toContain("down 0");
    expect(world.tcpLog.last.some((l) => /no bytes from rank/.test(l))).toBe(true);
    await world.run({ until: 250 });
    expect((world.endpoint(1) as TcpTransport).connectedPeers()).toEqual([0]);
    world.endpoint(1).send(0, frame(2));
    await world.run({ until: 260 });
    expect(tags(at0.frames)).toEqual([1, 2]);
  });
});

describe("SimWorld wire tcp: resend after a reset between live ranks", () => {
  const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

  for (const how of ["clean", "cut", "corrupt"] as const) {
    it(`a ${how} reset mid-stream, repeated, in both directions: each side gets exactly the sent sequence`, async () => {
      const world = new SimWorld({ size: 2, seed: 31, wire: "tcp", backoff: { initialMs: 1, maxMs: 5 } });
      const at0 = listen(world.endpoint(0));
      const at1 = listen(world.endpoint(1));
      await world.run();
      let n = 0;
      let resets = 0;
      // Bursts of mixed sizes (some over the slab's inline limit, some acknowledged, some not) with a reset in each.
      for (let round = 0; round < 6; round++) {
        for (let i = 0; i < 300; i++) {
          n++;
          const bytes = n % 97 === 0 ? 40_000 : 50 + (n % 7) * 100;
          world.endpoint(1).send(0, frame(n, bytes));
          world.endpoint(0).send(1, frame(n, bytes));
        }
        await world.run({ until: world.now + 0.05 + round * 0.01 });
        resets += world.resetConnection(1, 0, how);
        await world.run({ until: world.now + 20 });
      }
      await world.run();
      expect(resets).toBeGreaterThanOrEqual(5);
      expect(tags(at0.frames)).toEqual(range(1, n).map((x) => x & 0xffff));
      expect(tags(at1.frames)).toEqual(range(1, n).map((x) => x & 0xffff));
      // The piggyback carries the full number: no frame twice, none missing.
      const nums = (fs: readonly InboundFrame[]): number[] => fs.map((f) => Buffer.from(f.piggyback).readUInt32LE(0));
      expect(nums(at0.frames)).toEqual(range(1, n));
      expect(nums(at1.frames)).toEqual(range(1, n));
      expect(at0.frames.every((f) => f.payload.byteLength === (f.tag % 97 === 0 ? 40_000 : 50 + (f.tag % 7) * 100))).toBe(true);
      const s0 = (world.endpoint(0) as TcpTransport).stats;
      const s1 = (world.endpoint(1) as TcpTransport).stats;
      expect(s0.resent + s1.resent).toBeGreaterThan(0);
      expect(s0.framesReceived).toBe(n);
      expect(s1.framesReceived).toBe(n);
      // A live reset is no new incarnation.
      expect(at0.events.filter((e) => e.startsWith("inc"))).toEqual([]);
      if (how === "corrupt") expect(world.tcpLog.last.some((l) => /CRC|magic|version|kind|exceeds/.test(l))).toBe(true);
    });
  }

  it("the sender's held frames are bounded by the Ack interval (256 frames), and a heartbeat tick acknowledges the rest", async () => {
    const world = new SimWorld({ size: 2, seed: 12, wire: "tcp", heartbeatMs: 10 });
    const at0 = listen(world.endpoint(0));
    listen(world.endpoint(1));
    await world.run({ until: 20 });
    const t1 = world.endpoint(1) as TcpTransport;
    for (let i = 1; i <= 5000; i++) t1.send(0, frame(i));
    expect(t1.unacknowledged(0)).toBe(5000);
    await world.run({ until: world.now + 5 }); // less than a heartbeat period
    expect(at0.frames.length).toBe(5000);
    expect(t1.unacknowledged(0)).toBe(5000 % 256);
    await world.run({ until: world.now + 25 });
    expect(t1.unacknowledged(0)).toBe(0);
  });

  it("after a restart (new incarnation) the counters start over: frames never written reach the new incarnation once", async () => {
    const world = new SimWorld({ size: 2, seed: 8, wire: "tcp", backoff: { initialMs: 1, maxMs: 5 } });
    const at0 = listen(world.endpoint(0));
    listen(world.endpoint(1));
    await world.run();
    for (let i = 1; i <= 600; i++) world.endpoint(1).send(0, frame(i));
    await world.run();
    world.crash(0);
    await world.run({ until: world.now + 50 });
    // Buffered while rank 0 is down: delivered to its next incarnation, numbered from 0 in the new pair.
    for (let i = 601; i <= 610; i++) world.endpoint(1).send(0, frame(i));
    const again = listen(world.restart(0, 1) && world.endpoint(0));
    await world.run();
    expect(tags(at0.frames)).toEqual(range(1, 600));
    expect(tags(again.frames)).toEqual(range(601, 610));
    world.resetConnection(1, 0, "cut");
    for (let i = 611; i <= 620; i++) world.endpoint(1).send(0, frame(i));
    await world.run();
    expect(tags(again.frames)).toEqual(range(601, 620));
  });
});
