import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import { decodeValue } from "../src/host/value-codec.js";
import { describe, expect, it } from "vitest";
import {
  IdempotentSink,
  MemoryOutputSink,
  ProtocolContractError,
  RankHost,
  ReportedError,
  RetractionError,
  loadApp,
  toJsonValue,
  canonicalDigest,
  crc32,
  type JobFailure,
} from "../src/host/index.js";
import {
  FrameKind,
  RUNTIME_TAG_BASE,
  type App,
  type InboundFrame,
  type Protocol,
  type ProtocolFactory,
  type ProtocolHost,
  type StorageProvider,
  type Timers,
  type TraceEvent,
  type Transport,
  type TransportEvents,
} from "../src/spi.js";

// ------------------------------------------------------------------ fakes

class FakeTransport implements Transport {
  readonly sent: { to: number; payload: Uint8Array }[] = [];
  events: TransportEvents | null = null;
  constructor(
    readonly rank: number,
    readonly size: number,
  ) {}
  send(to: number, frame: { payload: Uint8Array }): void {
    this.sent.push({ to, payload: frame.payload });
  }
  on(e: TransportEvents): void {
    this.events = e;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const noStorage: StorageProvider = {
  openLog: () => Promise.reject(new Error("no storage in this test")),
  openCheckpoints: () => Promise.reject(new Error("no storage in this test")),
};
const timers: Timers = { now: () => 0, every: () => () => {}, after: () => () => {} };

/** A protocol that exposes its host and records what reaches it. */
class ProbeProtocol implements Protocol {
  frames: InboundFrame[] = [];
  restarts: [number, number][] = [];
  seq = 0;
  constructor(readonly host: ProtocolHost) {}
  start(): Promise<void> {
    return this.host.initApp({ replay: false });
  }
  send(to: number, payload: Uint8Array): void {
    this.host.transport.send(to, { kind: FrameKind.App, tag: 0, piggyback: new Uint8Array(), payload });
  }
  onFrame(f: InboundFrame): void {
    this.frames.push(f);
  }
  read(produce: () => Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(produce());
  }
  write(payload: Uint8Array): Promise<void> {
    return this.host.emitOutput(this.seq++, payload);
  }
  onPeerRestart(rank: number, inc: number): void {
    this.restarts.push([rank, inc]);
  }
  stats() {
    return { messages: 0, piggybackBytes: 0, bytesLogged: 0, checkpoints: 0, rollbacks: 0 };
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

function setup(app: App<unknown>, opts: { rank?: number; runtimeFrame?: (f: InboundFrame) => void } = {}) {
  let probe!: ProbeProtocol;
  const factory: ProtocolFactory = {
    protocolName: "probe",
    defaultF: 1,
    create: (h) => (probe = new ProbeProtocol(h)),
  };
  const failures: JobFailure[] = [];
  const done: number[] = [];
  const delivered: number[] = [];
  const sink = new MemoryOutputSink();
  const transport = new FakeTransport(opts.rank ?? 1, 3);
  const host = new RankHost({
    rank: opts.rank ?? 1,
    size: 3,
    incarnation: 0,
    app,
    args: ["a"],
    protocol: factory,
    transport,
    storage: noStorage,
    timers,
    sink,
    runtimeFrame: opts.runtimeFrame,
    events: { fatal: (f) => failures.push(f), done: (r) => done.push(r), delivered: (c) => delivered.push(c) },
  });
  return { host, probe: () => probe, failures, done, delivered, sink, transport };
}

const msg = (data: unknown) => serialize(data);

// ------------------------------------------------------------------ tests

describe("RankHost", () => {
  it("runs init with rank, size and args, then onStart; ctx.send serializes to the protocol", async () => {
    const app: App<{ seen: string[] }> = {
      init: ({ rank, size, args }) => ({ seen: [`${rank}/${size}/${args.join(",")}`] }),
      onStart: (s, ctx) => ctx.send(2, { hello: s.seen[0] }),
      onMessage: () => {},
    };
    const t = setup(app as App<unknown>);
    await t.host.start();
    expect(t.transport.sent).toHaveLength(1);
    expect(t.transport.sent[0]!.to).toBe(2);
    expect(decodeValue(t.transport.sent[0]!.payload)).toEqual({ hello: "1/3/a" });
    expect(t.host.f).toBe(1);
  });

  it("serializes deliveries: resolves after async onMessage, and rejects an overlapping deliver as a protocol bug", async () => {
    const order: string[] = [];
    let release!: () => void;
    const app: App<{ n: number }> = {
      init: () => ({ n: 0 }),
      async onMessage(s, m) {
        order.push(`start ${String(m.data)}`);
        if (m.data === 1) await new Promise<void>((r) => (release = r));
        s.n++;
        order.push(`end ${String(m.data)}`);
      },
    };
    const t = setup(app as App<unknown>);
    await t.host.start();
    const p1 = t.host.deliver(0, msg(1), { replay: false });
    expect(() => t.host.deliver(0, msg(2), { replay: false })).toThrow(ProtocolContractError);
    expect(t.failures[0]?.kind).toBe("internal");
    expect(t.failures[0] && "message" in t.failures[0] ? t.failures[0].message : "").toMatch(/before the previous delivery settled/);
    release();
    await p1.catch(() => {});
    expect(order).toEqual(["start 1", "end 1"]);
  });

  it("delivers in order when the protocol waits, counts deliveries and reports the count", async () => {
    const app: App<number[]> = { init: () => [], onMessage: (s, m) => void s.push(m.data as number) };
    const t = setup(app as App<unknown>);
    await t.host.start();
    for (let i = 0; i < 5; i++) await t.host.deliver(0, msg(i), { replay: i < 2 });
    expect(decodeValue(t.host.captureAppState())).toEqual([0, 1, 2, 3, 4]);
    expect(t.host.deliveryCount).toBe(5);
    expect(t.delivered).toEqual([1, 2, 3, 4, 5]);
  });

  it("reports an application exception as an application error with rank and stack", async () => {
    const app: App<unknown> = {
      init: () => ({}),
      onMessage: function explodingHandler() {
        throw new Error("boom in handler");
      },
    };
    const t = setup(app);
    await t.host.start();
    await expect(t.host.deliver(0, msg("x"), { replay: false })).rejects.toBeInstanceOf(ReportedError);
    expect(t.failures).toHaveLength(1);
    const f = t.failures[0]!;
    expect(f.kind).toBe("app-error");
    expect(f.rank).toBe(1);
    expect(f.kind === "app-error" && f.stack).toMatch(/boom in handler[\s\S]*explodingHandler/);
    // The host is inert afterwards: later deliveries reject without a second report.
    await expect(t.host.deliver(0, msg("y"), { replay: false })).rejects.toBeInstanceOf(ReportedError);
    expect(t.failures).toHaveLength(1);
  });

  it("reports a rejected async handler and a throwing init as application errors", async () => {
    const t1 = setup({ init: () => ({}), onMessage: async () => Promise.reject(new TypeError("async nope")) });
    await t1.host.start();
    await expect(t1.host.deliver(0, msg(0), { replay: false })).rejects.toThrow();
    expect(t1.failures[0]).toMatchObject({ kind: "app-error", message: "async nope" });

    const t2 = setup({
      init: () => {
        throw new Error("bad init");
      },
      onMessage: () => {},
    });
    await expect(t2.host.start()).rejects.toBeInstanceOf(ReportedError);
    expect(t2.failures[0]).toMatchObject({ kind: "app-error", message: "bad init" });
  });

  it("ctx.read goes through protocol.read; ctx.write is numbered by the protocol; done is reported once", async () => {
    const app: App<{ v?: number }> = {
      init: () => ({}),
      async onMessage(s, _m, ctx) {
        s.v = await ctx.read(() => 42);
        await ctx.write({ got: s.v });
        await ctx.write([1, 2n]);
        ctx.done();
        ctx.done();
      },
    };
    const t = setup(app as App<unknown>);
    await t.host.start();
    await t.host.deliver(0, msg(null), { replay: false });
    expect(t.sink.outputs.map((o) => [o.seq, decodeValue(o.payload)])).toEqual([
      [0, { got: 42 }],
      [1, [1, 2n]],
    ]);
    expect(t.done).toEqual([1]);
    expect(t.host.isDone).toBe(true);
  });

  it("rejects bad destinations and self-sends as application errors", async () => {
    const t = setup({ init: () => ({}), onMessage: (_s, _m, ctx) => ctx.send(1, "me") });
    await t.host.start();
    await expect(t.host.deliver(0, msg(0), { replay: false })).rejects.toThrow();
    expect(t.failures[0]).toMatchObject({ kind: "app-error" });
    expect(t.failures[0] && "message" in t.failures[0] ? t.failures[0].message : "").toMatch(/cannot send to itself/);
  });

  it("a retraction through emitOutput is reported as such, not as an application error", async () => {
    const t = setup({ init: () => ({}), onMessage: () => {} });
    await t.host.start();
    await t.host.emitOutput(7, msg("a"));
    await t.host.emitOutput(7, msg("a")); // exact duplicate: dropped silently
    await expect(t.host.emitOutput(7, msg("b"))).rejects.toBeInstanceOf(ReportedError);
    expect(t.failures).toEqual([expect.objectContaining({ kind: "retraction", rank: 1, seq: 7 })]);
    expect(t.sink.outputs).toHaveLength(1);
  });

  it("routes runtime control frames to the runtime and others to the protocol; dedups peer restarts", async () => {
    const runtime: InboundFrame[] = [];
    const t = setup({ init: () => ({}), onMessage: () => {} }, { runtimeFrame: (f) => runtime.push(f) });
    await t.host.start();
    const frame = (kind: FrameKind, tag: number): InboundFrame => ({
      kind,
      tag,
      from: 0,
      fromIncarnation: 0,
      piggyback: new Uint8Array(),
      payload: new Uint8Array(),
    });
    t.transport.events!.frame(frame(FrameKind.Control, RUNTIME_TAG_BASE + 3));
    t.transport.events!.frame(frame(FrameKind.Control, 7));
    t.transport.events!.frame(frame(FrameKind.App, 0));
    expect(runtime.map((f) => f.tag)).toEqual([RUNTIME_TAG_BASE + 3]);
    expect(t.probe().frames.map((f) => f.tag)).toEqual([7, 0]);
    t.transport.events!.peerIncarnation(2, 1);
    t.host.peerRestarted(2, 1); // the launcher says the same thing
    t.host.peerRestarted(2, 2);
    expect(t.probe().restarts).toEqual([
      [2, 1],
      [2, 2],
    ]);
  });

  it("captures and restores application state with v8 (Maps, typed arrays)", async () => {
    const app: App<{ m: Map<string, Float64Array> }> = {
      init: () => ({ m: new Map([["x", new Float64Array([1.5, 2])]]) }),
      onMessage: (s) => void s.m.set("y", new Float64Array([3])),
    };
    const t = setup(app as App<unknown>);
    await t.host.start();
    const snap = t.host.captureAppState();
    await t.host.deliver(0, msg(0), { replay: false });
    t.host.restoreAppState(snap);
    expect((decodeValue(t.host.captureAppState()) as { m: Map<string, unknown> }).m.has("y")).toBe(false);
  });

  it("unrecoverable() reports and throws", async () => {
    const t = setup({ init: () => ({}), onMessage: () => {} });
    await t.host.start();
    expect(() => t.host.unrecoverable("2 failures, f = 1")).toThrow(/unrecoverable: 2 failures, f = 1/);
    expect(t.failures).toEqual([{ kind: "unrecoverable", rank: 1, reason: "2 failures, f = 1" }]);
  });

  it("a crashed host is inert: pending work never completes, nothing is reported", async () => {
    let release!: () => void;
    const t = setup({
      init: () => ({}),
      async onMessage(_s, _m, ctx) {
        await new Promise<void>((r) => (release = r));
        await ctx.write("late");
        ctx.done();
      },
    });
    await t.host.start();
    void t.host.deliver(0, msg(0), { replay: false });
    t.host.crash();
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(t.sink.outputs).toHaveLength(0);
    expect(t.done).toEqual([]);
  });
});

describe("deliver trace digests", () => {
  /** `value` serialized as v8 writes a heap number: tag 'N' and a float64, even when it is integral. */
  const asDouble = (value: number): Uint8Array => {
    const b = new Uint8Array(serialize(0.5)); // header, 'N', 8 bytes
    expect(b[b.length - 9]).toBe(0x4e);
    new DataView(b.buffer).setFloat64(b.length - 8, value, true);
    return b;
  };
  /** The digests the host traces for these payloads, delivered in order. */
  const traced = async (payloads: Uint8Array[]): Promise<number[]> => {
    const events: TraceEvent[] = [];
    const factory: ProtocolFactory = { protocolName: "probe", defaultF: 1, create: (h) => new ProbeProtocol(h) };
    const host = new RankHost({
      rank: 1,
      size: 3,
      incarnation: 0,
      app: { init: () => ({}), onMessage: () => {} },
      protocol: factory,
      transport: new FakeTransport(1, 3),
      storage: noStorage,
      timers,
      sink: new MemoryOutputSink(),
      events: { fatal: (f) => expect.fail(JSON.stringify(f)) },
      trace: (e) => events.push(e),
    });
    await host.start();
    for (const p of payloads) await host.deliver(0, p, { replay: false });
    return events.flatMap((e) => (e.type === "deliver" ? [e.digest] : []));
  };

  it("1 sent as an int32 and as a double-typed 1 get the same digest (the v8 bytes differ)", async () => {
    const int = new Uint8Array(serialize(1));
    const dbl = asDouble(1);
    expect(Buffer.from(int).equals(Buffer.from(dbl))).toBe(false);
    expect(deserialize(dbl)).toBe(1);
    expect(crc32(int)).not.toBe(crc32(dbl)); // what the raw-bytes digest gave
    const [a, b, two] = await traced([int, dbl, asDouble(2)]);
    expect(a).toBe(b);
    expect(two).not.toBe(a);
  });

  it("inside an object too: { x: 1 } with x written as int32 or as double (as V8 does for a field once it held 1.5)", async () => {
    // v8 format 15: 'o', '"' one-byte string "x", then the value, then '{' with 1 property
    const head = [0xff, 0x0f, 0x6f, 0x22, 0x01, 0x78];
    const int = Uint8Array.of(...head, 0x49, 0x02, 0x7b, 0x01);
    const dbl = Uint8Array.of(...head, 0x4e, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x7b, 0x01);
    expect(deserialize(int)).toEqual({ x: 1 });
    expect(deserialize(dbl)).toEqual({ x: 1 });
    const [a, b] = await traced([int, dbl]);
    expect(a).toBe(b);
  });

  it("the rendering is structural: a v8 round trip keeps the digest; -0 and key order count", () => {
    const v = { m: new Map<unknown, unknown>([[1, [2, 3n]]]), d: new Date(5), t: Uint8Array.of(1, 2), z: -0, u: undefined };
    expect(canonicalDigest(deserialize(serialize(v)))).toBe(canonicalDigest(v));
    expect(canonicalDigest({ ...v, z: 0 })).not.toBe(canonicalDigest(v));
    expect(canonicalDigest({ a: 1, b: 2 })).not.toBe(canonicalDigest({ b: 2, a: 1 })); // key order is part of the value
  });
});

describe("IdempotentSink", () => {
  it("drops exact duplicates of (rank, seq) and reports a retraction", () => {
    const s = new IdempotentSink();
    expect(s.accept(0, 0, msg("a"))).toBe("new");
    expect(s.accept(1, 0, msg("b"))).toBe("new"); // other rank, same seq: independent
    expect(s.accept(0, 0, msg("a"))).toBe("duplicate");
    expect(() => s.accept(0, 0, msg("A"))).toThrow(RetractionError);
    expect(s.stats).toEqual({ released: 2, duplicatesDropped: 1 });
  });
});

describe("output encoding", () => {
  it("keeps JSON values and tags the rest", () => {
    expect(toJsonValue({ a: [1, "x", null, true] })).toEqual({ a: [1, "x", null, true] });
    expect(
      toJsonValue([undefined, NaN, -0, 10n, new Uint8Array([1, 2]), new Map([[1, 2]]), new Set(["s"]), new Date(0)]),
    ).toEqual([
      { $undefined: true },
      { $number: "NaN" },
      { $number: "-0" },
      { $bigint: "10" },
      { $bytes: "AQI=" },
      { $map: [[1, 2]] },
      { $set: ["s"] },
      { $date: "1970-01-01T00:00:00.000Z" },
    ]);
  });
});

describe("loadApp", () => {
  const dir = mkdtempSync(join(tmpdir(), "egida-host-test-"));
  it("loads a valid .mjs app", async () => {
    const f = join(dir, "ok.mjs");
    writeFileSync(f, "export default { init: () => 0, onMessage() {} };");
    const app = await loadApp(f);
    expect(app.init({ rank: 0, size: 1, args: [] })).toBe(0);
  });
  it("rejects a module with the wrong shape with a clear message", async () => {
    const f = join(dir, "app.mjs");
    writeFileSync(f, "export default { init() {} };");
    await expect(loadApp(f)).rejects.toThrow("app.mjs: default export must have init(args) and onMessage(state, msg, ctx)");
  });
  it("names a missing file", async () => {
    await expect(loadApp(join(dir, "missing.mjs"))).rejects.toThrow(/missing\.mjs: cannot read/);
  });
  it("loads a .ts app through tsx", async () => {
    const f = join(dir, "typed.ts");
    writeFileSync(f, "const n: number = 3;\nexport default { init: (): number => n, onMessage(): void {} };\n");
    const app = await loadApp(f);
    expect(app.init({ rank: 0, size: 1, args: [] })).toBe(3);
  });
});
