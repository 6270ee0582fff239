import { describe, expect, it } from "vitest";
import { FrameKind, type Frame, type InboundFrame } from "../src/spi.js";
import { Prng, SimWorld, type SimWorldOptions } from "../src/sim/index.js";

const EMPTY = new Uint8Array(0);

function frame(n: number, tag = 0): Frame {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, n);
  return { kind: tag === 0 ? FrameKind.App : FrameKind.Control, tag, piggyback: EMPTY, payload };
}
function num(f: InboundFrame): number {
  return new DataView(f.payload.buffer, f.payload.byteOffset, f.payload.byteLength).getUint32(0);
}

/** A gossip workload: every rank starts a few chains; each hop forwards to a PRNG-chosen peer until a hop budget runs out. */
async function gossip(opts: Partial<SimWorldOptions> & { seed: number }, asyncHandlers = false) {
  const size = 5;
  const world = new SimWorld({ size, trace: true, ...opts });
  for (let r = 0; r < size; r++) {
    const t = world.transport(r);
    const timers = world.timers(r);
    const rng = new Prng(1000 + r); // the app's own choices are fixed; only the network varies with the seed
    t.on({
      frame: (f) => {
        const hops = num(f);
        if (hops === 0) return;
        const forward = (): void => {
          let to = rng.int(0, size - 2);
          if (to >= r) to++;
          t.send(to, frame(hops - 1));
        };
        if (!asyncHandlers) return forward();
        // Await a virtual timer, then a few microtask hops, like protocol code awaiting storage.
        void (async () => {
          await new Promise<void>((res) => timers.after(0.01, res));
          await Promise.resolve();
          await Promise.resolve();
          forward();
        })();
      },
      peerIncarnation: () => {},
    });
    for (let k = 0; k < 3; k++) t.send((r + 1 + k) % size, frame(30));
  }
  const result = await world.run();
  return { world, result };
}

describe("SimWorld determinism", () => {
  it("the same seed gives the identical trace; another seed interleaves differently", async () => {
    const a = await gossip({ seed: 7 });
    const b = await gossip({ seed: 7 });
    const c = await gossip({ seed: 8 });
    expect(a.world.trace.length).toBe(5 * 3 * 31);
    expect(b.world.trace).toEqual(a.world.trace);
    expect(c.world.trace.length).toBe(a.world.trace.length);
    expect(c.world.trace).not.toEqual(a.world.trace);
    expect(a.result.reason).toBe("idle");
  });

  it("async handlers (awaiting sim timers and microtasks) are deterministic too", async () => {
    const a = await gossip({ seed: 3 }, true);
    const b = await gossip({ seed: 3 }, true);
    expect(a.world.trace.length).toBe(5 * 3 * 31);
    expect(b.world.trace).toEqual(a.world.trace);
    // settle "always" gives the same virtual-time behaviour as the promise-hook gated "auto"
    const c = await gossip({ seed: 3, settle: "always" }, true);
    expect(c.world.trace).toEqual(a.world.trace);
  });

  it("continuations run before the clock moves on", async () => {
    const world = new SimWorld({ size: 2, seed: 1, latency: { min: 1, max: 1 } });
    const stamps: number[] = [];
    const t1 = world.transport(1);
    t1.on({
      frame: () => {
        void (async () => {
          for (let i = 0; i < 5; i++) await Promise.resolve();
          stamps.push(world.now);
        })();
      },
      peerIncarnation: () => {},
    });
    const t0 = world.transport(0);
    t0.send(1, frame(1));
    world.timers(0).after(0.5, () => t0.send(1, frame(2)));
    await world.run();
    expect(stamps).toEqual([1, 1.5]);
  });
});

describe("SimWorld channels", () => {
  it("is FIFO within each channel despite random latency", async () => {
    const size = 4;
    const world = new SimWorld({ size, seed: 42, latency: { min: 0, max: 5 } });
    const got: number[][][] = Array.from({ length: size }, () => Array.from({ length: size }, () => []));
    for (let r = 0; r < size; r++) {
      world.transport(r).on({ frame: (f) => got[r]![f.from]!.push(num(f)), peerIncarnation: () => {} });
    }
    for (let i = 0; i < 200; i++) {
      for (let r = 0; r < size; r++) for (let to = 0; to < size; to++) if (to !== r) world.transport(r).send(to, frame(i));
    }
    await world.run();
    const expected = Array.from({ length: 200 }, (_, i) => i);
    for (let r = 0; r < size; r++) for (let from = 0; from < size; from++) if (from !== r) expect(got[r]![from]).toEqual(expected);
  });

  it("copies frames on send, carries tag/kind/piggyback and the sender's incarnation", async () => {
    const world = new SimWorld({ size: 2, seed: 1 });
    const got: InboundFrame[] = [];
    world.transport(1).on({ frame: (f) => got.push(f), peerIncarnation: () => {} });
    const pb = Uint8Array.of(1, 2, 3);
    world.transport(0).send(1, { kind: FrameKind.Control, tag: 0xf001, piggyback: pb, payload: Uint8Array.of(9) });
    pb[0] = 99;
    await world.run();
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ kind: FrameKind.Control, tag: 0xf001, from: 0, fromIncarnation: 0 });
    expect([...got[0]!.piggyback]).toEqual([1, 2, 3]);
    expect(() => world.transport(0).send(0, frame(1))).toThrow(RangeError);
    expect(() => world.transport(0).send(1, frame(1, 0x10000))).toThrow(RangeError);
  });

  it("holds deliveries until the handlers are registered", async () => {
    const world = new SimWorld({ size: 2, seed: 1 });
    world.transport(0).send(1, frame(5));
    await world.run();
    const got: number[] = [];
    world.transport(1).on({ frame: (f) => got.push(num(f)), peerIncarnation: () => {} });
    expect(got).toEqual([]); // not synchronously inside on()
    await world.run();
    expect(got).toEqual([5]);
  });
});

describe("SimWorld crash and restart", () => {
  it("loses in-flight frames to a crashed rank, buffers frames sent while it is dead, and notifies peers", async () => {
    const world = new SimWorld({ size: 3, seed: 5, latency: { min: 1, max: 1 } });
    const events: string[] = [];
    for (const r of [0, 2]) {
      world.transport(r).on({
        frame: (f) => events.push(`${r}<-${f.from}@${f.fromIncarnation}:${num(f)}`),
        peerIncarnation: (rank, inc) => events.push(`${r}:inc(${rank},${inc})`),
        peerDown: (rank) => events.push(`${r}:down(${rank})`),
      });
    }
    const old1 = world.transport(1);
    let oldTimerFired = false;
    world.timers(1).after(10, () => (oldTimerFired = true));
    old1.on({ frame: () => events.push("old1 got a frame"), peerIncarnation: () => {} });
    old1.send(0, frame(100)); // on the wire when 1 crashes: still delivered
    world.transport(0).send(1, frame(1)); // in flight to 1: lost
    await world.run({ until: 0.5 });
    world.crash(1);
    expect(world.isAlive(1)).toBe(false);
    expect(() => world.transport(1)).toThrow(/crashed/);
    old1.send(2, frame(101)); // leftover code of the dead incarnation: dropped
    world.transport(0).send(1, frame(2)); // buffered at 0
    world.transport(2).send(1, frame(3)); // buffered at 2
    await world.run({ until: 5 });
    expect(events).toEqual(["0<-1@0:100", "0:down(1)", "2:down(1)"]);

    events.length = 0;
    const new1 = world.restart(1, 4);
    expect(world.incarnation(1)).toBe(4);
    expect(world.transport(1)).toBe(new1);
    const got1: string[] = [];
    new1.on({ frame: (f) => got1.push(`${f.from}:${num(f)}`), peerIncarnation: (r, i) => got1.push(`inc(${r},${i})`) });
    new1.send(0, frame(7));
    await world.run();
    expect(events).toEqual(["0:inc(1,4)", "2:inc(1,4)", "0<-1@4:7"]);
    expect(got1).toEqual(["0:2", "2:3"]);
    expect(oldTimerFired).toBe(false);
    expect(() => world.restart(1, 4)).toThrow(RangeError);
    expect(world.stats.framesDropped).toBe(2);
  });

  it("drops frames a crashed rank had buffered for a dead peer, and reports peers' incarnations to a restarted rank", async () => {
    const world = new SimWorld({ size: 3, seed: 5 });
    world.crash(2);
    world.transport(0).send(2, frame(1)); // buffered in 0's memory
    world.crash(0); // ... and lost with it
    world.restart(0);
    const seen: string[] = [];
    world.restart(2).on({ frame: (f) => seen.push(`f${f.from}`), peerIncarnation: (r, i) => seen.push(`inc(${r},${i})`) });
    await world.run();
    expect(seen).toEqual(["inc(0,1)"]);
  });

  it("lets a step hook crash a rank at any step, deterministically", async () => {
    const once = async () => {
      const world = new SimWorld({ size: 3, seed: 11, trace: true });
      for (let r = 0; r < 3; r++) {
        const t = world.transport(r);
        t.on({ frame: (f) => num(f) > 0 && t.send((r + 1) % 3, frame(num(f) - 1)), peerIncarnation: () => {} });
      }
      world.transport(0).send(1, frame(50));
      world.transport(1).send(2, frame(50));
      const steps: number[] = [];
      await world.run({
        onStep: (s) => {
          steps.push(s.step);
          if (s.step === 20) world.crash(s.rank);
        },
      });
      return { trace: world.trace, steps };
    };
    const a = await once();
    const b = await once();
    expect(a.trace).toEqual(b.trace);
    expect(a.trace.some((e) => e.dropped)).toBe(true);
    expect(a.steps.length).toBeLessThan(101);
  });

  it("stops at maxSteps and at until", async () => {
    const world = new SimWorld({ size: 2, seed: 1 });
    let ticks = 0;
    const cancel = world.timers(0).every(10, () => ticks++);
    expect(await world.run({ until: 55 })).toMatchObject({ reason: "until", time: 55 });
    expect(ticks).toBe(5);
    expect(await world.run({ maxSteps: 2 })).toMatchObject({ reason: "maxSteps", steps: 2 });
    expect(ticks).toBe(7);
    cancel();
    expect(await world.run()).toMatchObject({ reason: "idle" });
    expect(ticks).toBe(7);
  });
});
