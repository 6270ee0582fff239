/**
 * RankHost hot path in isolation (not a test): ns per call of the host's
 * per-message entry points, with a protocol that does nothing, so the
 * host's own cost is visible without a transport, storage or v8
 * serialization around it.
 *
 *   npx tsx bench/overhead-host.ts [--n 5000000] [--reps 7]
 *
 *  - onFrame: transport → RankHost.onFrame → Protocol.onFrame (empty);
 *  - deliver: Protocol → RankHost.deliver → onMessage (empty, sync), with a
 *    pre-serialized 1-byte payload (v8 deserialize is most of this number);
 *  - send:    AppContext.send → serialize → Protocol.send (empty).
 *
 * Used to measure RankHost changes (docs/performance.md).
 */
import { cpus } from "node:os";
import { serialize } from "node:v8";
import { benchArgs } from "./args.js";
import { MemoryOutputSink } from "../runtime-core/src/host/output-sink.js";
import { RankHost } from "../runtime-core/src/host/rank-host.js";
import {
  FrameKind,
  type AppContext,
  type Frame,
  type InboundFrame,
  type Protocol,
  type ProtocolFactory,
  type ProtocolHost,
  type ProtocolStats,
  type Timers,
  type Transport,
  type TransportEvents,
} from "../runtime-core/src/spi.js";
import { createMemoryStorageProvider } from "../runtime-core/src/storage/provider.js";

const values = benchArgs("overhead-host", "Usage: npx tsx bench/overhead-host.ts [--n 5000000] [--reps 7]", { n: { type: "string", default: "5000000" }, reps: { type: "string", default: "7" } });
const N = Number(values.n);
const REPS = Number(values.reps);

let sink = 0;
const NOT_REPLAY = Object.freeze({ replay: false });

class NullProtocol implements Protocol {
  constructor(readonly host: ProtocolHost) {}
  async start(): Promise<void> {
    await this.host.initApp(NOT_REPLAY);
  }
  send(to: number, payload: Uint8Array): void {
    sink += to + payload.length;
  }
  onFrame(frame: InboundFrame): void {
    sink += frame.tag;
  }
  read(produce: () => Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(produce());
  }
  write(): Promise<void> {
    return Promise.resolve();
  }
  onPeerRestart(): void {}
  stats(): ProtocolStats {
    return { messages: 0, piggybackBytes: 0, bytesLogged: 0, checkpoints: 0, rollbacks: 0 };
  }
  async stop(): Promise<void> {}
}

const factory: ProtocolFactory = { protocolName: "null", defaultF: 0, create: (h) => new NullProtocol(h) };

class CaptureTransport implements Transport {
  readonly rank = 0;
  readonly size = 2;
  handlers: TransportEvents | null = null;
  send(_to: number, _frame: Frame): void {}
  on(events: TransportEvents): void {
    this.handlers = events;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const timers: Timers = { now: () => 0, every: () => () => {}, after: () => () => {} };

async function main(): Promise<void> {
  const transport = new CaptureTransport();
  let ctx: AppContext | null = null;
  const host = new RankHost({
    rank: 0,
    size: 2,
    incarnation: 0,
    app: {
      init: () => ({ n: 0 }),
      onStart: (_s, c) => {
        ctx = c;
      },
      onMessage: (s) => {
        (s as { n: number }).n++;
      },
    },
    protocol: factory,
    transport,
    timers,
    storage: createMemoryStorageProvider({ rank: 0, stable: new Map() }),
    sink: new MemoryOutputSink(),
    events: { fatal: (f) => console.error(f), delivered: () => {} },
  });
  await host.start();
  const h = transport.handlers!;
  const c = ctx as AppContext | null;
  if (c === null) throw new Error("no context");
  const payload = serialize(1);
  const fr: InboundFrame = { kind: FrameKind.App, tag: 0, piggyback: new Uint8Array(0), payload, from: 1, fromIncarnation: 0 };

  const cases: Record<string, (n: number) => void> = {
    onFrame: (n) => {
      for (let i = 0; i < n; i++) h.frame(fr);
    },
    deliver: (n) => {
      for (let i = 0; i < n; i++) void host.deliver(1, payload, NOT_REPLAY);
    },
    send: (n) => {
      for (let i = 0; i < n; i++) c.send(1, i & 127);
    },
  };
  console.log(`RankHost hot path: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, node ${process.version}; n=${N}, ${REPS} reps (ns/call: median, min)`);
  for (const [name, fn] of Object.entries(cases)) {
    const n = name === "onFrame" ? N : Math.floor(N / 10);
    fn(Math.min(n, 200_000)); // warm-up
    const xs: number[] = [];
    for (let r = 0; r < REPS; r++) {
      const c0 = process.cpuUsage();
      fn(n);
      const c1 = process.cpuUsage(c0);
      xs.push(((c1.user + c1.system) * 1e3) / n);
    }
    xs.sort((a, b) => a - b);
    console.log(`  ${name.padEnd(8)} ${xs[xs.length >> 1]!.toFixed(1).padStart(7)} ${xs[0]!.toFixed(1).padStart(7)}`);
  }
  if (sink === -1) console.log(sink);
}

await main();
