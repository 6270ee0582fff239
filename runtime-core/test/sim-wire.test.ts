/**
 * SimWorld's TCP-fidelity options: `wireFrames` (frames arrive as unaligned
 * Buffer views into a larger chunk, as the TCP decoder hands them) and
 * `crashLosesUnflushed` (a crash loses the frames the rank sent in the
 * current step: TCP writes them on the next tick, which a SIGKILL can beat).
 */
import { describe, expect, it } from "vitest";
import { FrameKind, type Frame, type InboundFrame } from "../src/spi.js";
import { SimWorld } from "../src/sim/index.js";

function frame(n: number, pbWords: number[] = [n]): Frame {
  return {
    kind: FrameKind.App,
    tag: 0,
    piggyback: new Uint8Array(new Uint32Array(pbWords).buffer),
    payload: new Uint8Array([n & 0xff, 1, 2, 3, 4]),
  };
}

function collect(world: SimWorld, rank: number): InboundFrame[] {
  const got: InboundFrame[] = [];
  world.transport(rank).on({ frame: (f) => got.push(f), peerIncarnation: () => {} });
  return got;
}

describe("SimWorld wireFrames", () => {
  it("delivers the same bytes as unaligned Buffer views whose slice() is not a copy", async () => {
    const world = new SimWorld({ size: 2, seed: 3, wireFrames: true });
    const got = collect(world, 1);
    for (let i = 1; i <= 6; i++) world.transport(0).send(1, frame(i, [i, 0xabcdef, i * 7]));
    await world.run();
    expect(got.length).toBe(6);
    got.forEach((f, i) => {
      expect(Buffer.isBuffer(f.piggyback)).toBe(true);
      expect(f.piggyback.byteOffset % 4).not.toBe(0);
      expect(Array.from(f.piggyback)).toEqual(Array.from(new Uint8Array(new Uint32Array([i + 1, 0xabcdef, (i + 1) * 7]).buffer)));
      expect(Array.from(f.payload)).toEqual([(i + 1) & 0xff, 1, 2, 3, 4]);
      // The trap this option exists for: the chunk holds more than this piggyback.
      expect(f.piggyback.slice().buffer.byteLength).toBeGreaterThan(f.piggyback.byteLength);
    });
  });

  it("without the option frames are plain aligned copies", async () => {
    const world = new SimWorld({ size: 2, seed: 3 });
    const got = collect(world, 1);
    world.transport(0).send(1, frame(1));
    await world.run();
    expect(Buffer.isBuffer(got[0]!.piggyback)).toBe(false);
    expect(got[0]!.piggyback.byteOffset % 4).toBe(0);
  });
});

describe("SimWorld crashLosesUnflushed", () => {
  /** Rank 0 answers every frame; the harness crashes it inside the handling step of frame `crashAt`. */
  async function pingPong(lose: boolean, crashAt: number): Promise<number[]> {
    const world = new SimWorld({ size: 2, seed: 5, crashLosesUnflushed: lose });
    const got = collect(world, 1);
    let seen = 0;
    world.transport(0).on({
      frame: (f) => {
        seen++;
        world.transport(0).send(1, frame(f.payload[0]! + 100));
        if (seen === crashAt) world.crash(0); // a self-kill right after the step's send
      },
      peerIncarnation: () => {},
    });
    for (let i = 1; i <= 3; i++) world.transport(1).send(0, frame(i));
    await world.run();
    return got.map((f) => f.payload[0]!);
  }

  it("drops only the frame sent in the crashing step", async () => {
    expect(await pingPong(true, 2)).toEqual([101]);
  });

  it("keeps it without the option (the frame was already on the wire)", async () => {
    expect(await pingPong(false, 2)).toEqual([101, 102]);
  });

  it("a crash in a later step does not drop frames of earlier steps", async () => {
    const world = new SimWorld({ size: 2, seed: 5, crashLosesUnflushed: true, latency: { min: 5, max: 6 } });
    const got = collect(world, 1);
    world.transport(0).on({ frame: () => {}, peerIncarnation: () => {} });
    world.transport(0).send(1, frame(1));
    world.at(1, () => world.crash(0)); // a later step, while frame 1 is still in flight
    await world.run();
    expect(got.map((f) => f.payload[0]!)).toEqual([1]);
    expect(world.stats.framesDropped).toBe(0);
  });
});

describe("SimWorld codec (frames cross as bytes through the TCP FrameQueue and FrameDecoder)", () => {
  const big = (n: number, bytes: number): Frame => ({ kind: FrameKind.Control, tag: 21, piggyback: new Uint8Array(bytes).fill(n), payload: new Uint8Array(0) });

  it("delivers small and large frames intact, with the sender's incarnation from the header", async () => {
    const world = new SimWorld({ size: 2, seed: 9, codec: true });
    const got = collect(world, 1);
    const sent = [frame(1), big(2, 20_000), frame(3), big(4, 16_660), frame(5, [])];
    for (const f of sent) world.transport(0).send(1, f);
    await world.run();
    expect(got.map((f) => [f.kind, f.tag, f.from, f.fromIncarnation, Buffer.from(f.piggyback).toString("hex"), Buffer.from(f.payload).toString("hex")])).toEqual(
      sent.map((f) => [f.kind, f.tag, 0, 0, Buffer.from(f.piggyback).toString("hex"), Buffer.from(f.payload).toString("hex")]),
    );
    expect(world.stats.framesRejected).toBe(0);
  });

  it("a large payload mutated after send fails its CRC, as over TCP (it is queued by reference)", async () => {
    const world = new SimWorld({ size: 2, seed: 9, codec: true });
    const got = collect(world, 1);
    const payload = new Uint8Array(20_000).fill(7);
    world.transport(0).send(1, { kind: FrameKind.App, tag: 0, piggyback: new Uint8Array(0), payload });
    payload[10] = 8;
    await world.run();
    expect(got).toEqual([]);
    expect(world.stats.framesRejected).toBe(1);
  });

  it("crashTail: a crash cuts or corrupts the victim's last frame in flight; the receiver drops it and the next incarnation's connection starts clean", async () => {
    for (const tail of [{ cut: 1, corrupt: 0 }, { cut: 0, corrupt: 1 }]) {
      for (let seed = 1; seed <= 20; seed++) {
        const world = new SimWorld({ size: 2, seed, codec: true, crashTail: tail, latency: { min: 5, max: 6 } });
        const got = collect(world, 1);
        world.transport(0).send(1, frame(1));
        world.transport(0).send(1, big(2, 17_000));
        world.at(1, () => {
          world.crash(0);
          world.restart(0);
          world.transport(0).send(1, frame(3));
          world.transport(0).send(1, big(4, 17_000));
        });
        await world.run();
        // Frame 1 is intact; frame 2 (the last in flight) is damaged: never delivered, never garbage.
        expect(got.map((f) => [f.fromIncarnation, f.kind === FrameKind.App ? f.payload[0] : f.piggyback[0]])).toEqual([
          [0, 1],
          [1, 3],
          [1, 4],
        ]);
        expect(world.stats.framesCut + world.stats.framesCorrupted).toBe(1);
      }
    }
  });
});
