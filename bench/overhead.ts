/**
 * Per-message protocol overhead (not a test): ns per send + delivery for every
 * generated protocol, inline and modular back ends, against `none`.
 *
 *   npx tsx bench/overhead.ts [--n 200000] [--reps 5] [--runs 3] [--warmup 2]
 *                             [--transport loopback|sim] [--clock virtual|frozen] [--frame-us 10]
 *                             [--metric cpu|instr] [--rewarm k] [--only <substring>[,<substring>...]] [--keep]
 *                             [--profile K]   (with --metric instr: each process's top K functions, JIT code named)
 *                             [--semi-space MB]  (fix V8's young generation: repeatable GC counts)
 *
 *   node --single-threaded --import tsx bench/overhead.ts --metric instr --n 16000 --reps 1 --runs 2 --warmup 2
 *     instructions per message under callgrind: repeatable on a loaded machine (slow: ~5 min per variant).
 *
 * What runs: for every spec in specs/ the block library implements, the
 * inline and the modular source are emitted in memory from the SAME block
 * library (compiler/src/codegen: regenerate + emitSource) into a temporary
 * directory, and loaded with tsx next to runtime-core's `none`.
 *
 * App: 2 ranks ping-pong `n` small messages (n/2 round trips; the data is a
 * small integer, a few bytes in the value codec), each side checking it gets
 * exactly the sequence it expects. Everything a real rank runs is on the path:
 * AppContext.send → encodeValue → Protocol.send → Transport → RankHost.onFrame
 * → Protocol.onFrame → ... → RankHost.deliver → v8 deserialize → onMessage.
 * `none` pays all of that too, so "over none" is the protocol's own cost.
 *
 * Transport (default `loopback`): a zero-latency in-process Transport that
 * passes frames by reference through one FIFO drained in a microtask. The
 * SimWorld (`--transport sim`, latency 0, the launcher's settings otherwise)
 * pays a setImmediate round per event that touched a promise (settle.ts),
 * ~1-2 µs, which is larger than what we want to measure and the same for
 * every protocol: see docs/performance.md for both.
 *
 * Storage: runtime-core's memory provider (no I/O); `volatile-memory-of-processes`
 * is the real replicated log over the same transport (wireReplication).
 * Clock (loopback): virtual, `--frame-us` µs per delivered frame (default 10:
 * a nominal 100 000 frames/s), so the protocols' timers fire at their spec'd
 * period measured in messages (flushes every 10 000 frames at 100 ms,
 * checkpoints every 200 000 at 2 s): asynchronous logs are flushed and sender
 * logs truncated as in a real run at that rate, and their cost is amortized
 * into the per-message number. `--clock frozen` is the earlier bench (now() =
 * 0, nothing fires: logs grow without bound, fig3b's piggybacks quadratically).
 *
 * Isolation: every (variant, repetition) runs in a fresh child process (same
 * node flags, plus --expose-gc), so each protocol's call sites in RankHost and
 * the transport see ONE protocol class, as in a real rank. Variants are
 * interleaved across repetitions (rotated order) so drift hits them alike.
 * Inside a child: `warmup` untimed runs, then `runs` timed runs, each after a
 * full GC; the GC the run itself causes is part of its time.
 *
 * Profile one variant:
 *   npx tsx bench/overhead.ts --keep --only fig4a-sby      (prints the fixture paths)
 *   node --cpu-prof --import tsx bench/overhead.ts --child <fixture>.mts --runs 5
 */
import { fork, spawn } from "node:child_process";
import { selfCosts, selfCostsByName } from "./callgrind-profile.js";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { benchArgs } from "./args.js";
import { describeFailure } from "../runtime-core/src/host/errors.js";
import { MemoryOutputSink } from "../runtime-core/src/host/output-sink.js";
import { RankHost } from "../runtime-core/src/host/rank-host.js";
import { wireReplication } from "../runtime-core/src/launcher/replication.js";
import { SimWorld } from "../runtime-core/src/sim/world.js";
import type {
  App,
  AppContext,
  Frame,
  InboundFrame,
  ProtocolFactory,
  ProtocolStats,
  Timers,
  Transport,
  TransportEvents,
} from "../runtime-core/src/spi.js";
import { createMemoryStorageProvider, type MemoryStableMedia } from "../runtime-core/src/storage/provider.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const NONE_FILE = join(ROOT, "runtime-core/src/protocols/none.ts");

type TransportKind = "loopback" | "sim";

const values = benchArgs("overhead", "Usage: npx tsx bench/overhead.ts [--n 200000] [--reps 5] [--runs 3] [--warmup 2] [--transport loopback|sim] [--clock virtual|real] [--metric cpu|instr] [--only a,b] [--keep] (flags as in the file's header)", {
    n: { type: "string", default: "200000" },
    reps: { type: "string", default: "5" },
    runs: { type: "string", default: "3" },
    warmup: { type: "string", default: "2" },
    transport: { type: "string", default: "loopback" },
    clock: { type: "string", default: "virtual" },
    "frame-us": { type: "string", default: "10" },
    metric: { type: "string", default: "cpu" },
    only: { type: "string" },
    keep: { type: "boolean", default: false },
    child: { type: "string" },
    rewarm: { type: "string", default: "0" },
    profile: { type: "string", default: "0" },
    "semi-space": { type: "string", default: "0" },
    size: { type: "string", default: "2" },
});

const N = even(Number(values.n));
const REPS = positive(Number(values.reps), "reps");
const RUNS = positive(Number(values.runs), "runs");
const WARMUP = Math.max(0, Math.floor(Number(values.warmup)));
const TRANSPORT = transportKind(values.transport ?? "loopback");
const CLOCK = clockKind(values.clock ?? "virtual");
const FRAME_US = Number(values["frame-us"]);
if (!(Number.isInteger(FRAME_US) && FRAME_US >= 1)) throw new RangeError(`--frame-us must be a positive integer, got ${values["frame-us"]}`);
const METRIC = metricKind(values.metric ?? "cpu");
/**
 * `--semi-space MB`: fix V8's young generation (both semi-spaces) at MB in the children. By
 * default V8 sizes it from the survival rate, so the number of scavenges in a window, and with
 * it a few hundred instructions per message, differs between processes of the same variant
 * (docs/performance.md, "Fixed young generation"). 0: V8's adaptive sizing.
 */
const SEMI_SPACE = Number(values["semi-space"]);
if (!(Number.isInteger(SEMI_SPACE) && SEMI_SPACE >= 0)) throw new RangeError(`--semi-space must be a whole number of MB (0: adaptive), got ${values["semi-space"]}`);
const SEMI_FLAGS = SEMI_SPACE > 0 ? [`--min-semi-space-size=${SEMI_SPACE}`, `--max-semi-space-size=${SEMI_SPACE}`] : [];
/** `--profile K` (with `--metric instr`): print each process's top K functions in its last timed window. */
const PROFILE = Math.max(0, Math.floor(Number(values.profile)));
if (PROFILE > 0 && METRIC !== "instr") throw new RangeError("--profile needs --metric instr");
const ONLY = values.only === undefined ? null : values.only.split(",").filter((x) => x !== "");
/**
 * `--rewarm k`: an untimed run of k messages between each timed run's full GC and the timed run.
 * The GC frees the previous run's hosts, transports and app closures, and V8 discards the optimized
 * code that embedded them ("weak objects" in --trace-deopt); without a re-warm run the timed window
 * pays the recompilation and the interpreter/baseline phase before it, which a long-lived rank pays
 * once. 0 (default): the documented runs so far.
 */
const REWARM = Number(values.rewarm) === 0 ? 0 : even(Number(values.rewarm));

function even(n: number): number {
  if (!(Number.isInteger(n) && n >= 2)) throw new RangeError(`--n must be an integer >= 2, got ${n}`);
  return n - (n % 2);
}
function positive(n: number, what: string): number {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`--${what} must be a positive integer`);
  return n;
}
function transportKind(s: string): TransportKind {
  if (s === "loopback" || s === "sim") return s;
  throw new RangeError(`--transport must be loopback or sim, got ${s}`);
}

type ClockKind = "virtual" | "frozen";
function clockKind(s: string): ClockKind {
  if (s === "virtual" || s === "frozen") return s;
  throw new RangeError(`--clock must be virtual or frozen, got ${s}`);
}
type Metric = "cpu" | "instr";
function metricKind(s: string): Metric {
  if (s === "cpu" || s === "instr") return s;
  throw new RangeError(`--metric must be cpu or instr, got ${s}`);
}

// ---------------------------------------------------------------- virtual clock

interface VTimer {
  due: number;
  readonly period: number;
  readonly fn: () => void;
  live: boolean;
}

/**
 * Bench time: `FRAME_US` virtual microseconds per frame the loopback delivers
 * (a nominal 100 000 frames/s at the default 10 µs), so the protocols' timers
 * (flush 100 ms, checkpoints 2-5 s) fire at their spec'd period *in messages*:
 * asynchronous logs get flushed, stability notices truncate the sender logs,
 * checkpoints are taken, as in a real run at that rate. Timers fire in the
 * loopback's delivery microtask, before the frame (in the gap between two
 * deliveries). When no frame is in flight but a timer is pending (a round
 * waiting on one), `idle()` jumps to it. Integer microseconds: no drift.
 */
class VirtualClock {
  private us = 0;
  private nextDue = Infinity;
  private timers: VTimer[] = [];
  constructor(private readonly stepUs: number) {}

  readonly timers_: Timers = {
    now: () => this.us / 1000,
    every: (ms, fn) => this.add(ms, fn),
    after: (ms, fn) => this.add(ms, fn, false),
  };

  private add(ms: number, fn: () => void, periodic = true): () => void {
    const period = Math.max(1, Math.round(ms * 1000));
    const t: VTimer = { due: this.us + period, period: periodic ? period : 0, fn, live: true };
    this.timers.push(t);
    if (t.due < this.nextDue) this.nextDue = t.due;
    return () => {
      t.live = false;
    };
  }

  /** One frame's worth of time. */
  tick(): void {
    this.us += this.stepUs;
    if (this.us >= this.nextDue) this.fire();
  }

  /** Nothing in flight: move to the next timer, if any. Returns whether one fired. */
  idle(): boolean {
    this.timers = this.timers.filter((t) => t.live);
    if (this.timers.length === 0) return false;
    this.us = Math.max(this.us, Math.min(...this.timers.map((t) => t.due)));
    this.fire();
    return true;
  }

  private fire(): void {
    const due = this.timers.filter((t) => t.live && t.due <= this.us).sort((a, b) => a.due - b.due);
    for (const t of due) {
      if (!t.live) continue; // cancelled by an earlier callback
      if (t.period > 0) t.due += t.period;
      else t.live = false;
      t.fn();
    }
    this.timers = this.timers.filter((t) => t.live);
    this.nextDue = Infinity;
    for (const t of this.timers) if (t.due < this.nextDue) this.nextDue = t.due;
  }
}

// ---------------------------------------------------------------- loopback transport

/**
 * Zero-latency in-process network: every frame is delivered in its own
 * microtask, queued when it is sent. Microtasks run FIFO, so channels are
 * FIFO, and a frame is delivered after the promise continuations that were
 * already queued when it was sent (as with any asynchronous network, the
 * receiver never runs inside the sender's call stack). Frames are passed by
 * reference (like SimWorld with copyFrames: false): every generated protocol
 * allocates a fresh piggyback per send, and the app checks every value.
 */
class LoopNet {
  private readonly ends: LoopTransport[] = [];
  private q: InboundFrame[] = [];
  private to: number[] = [];
  private head = 0;
  /** One microtask per frame; it takes the oldest frame (microtasks run in the order they were queued). */
  private readonly deliverOne = (): void => {
    if (this.clock !== null) this.clock.tick();
    this.delivered++;
    const i = this.head++;
    const fr = this.q[i]!;
    const dest = this.to[i]!;
    this.q[i] = undefined!;
    if (this.head === this.q.length) {
      this.q.length = 0;
      this.to.length = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.q.length) {
      this.q = this.q.slice(this.head);
      this.to = this.to.slice(this.head);
      this.head = 0;
    }
    this.ends[dest]!.deliver(fr);
  };

  constructor(
    readonly size: number,
    private readonly clock: VirtualClock | null,
  ) {
    for (let r = 0; r < size; r++) this.ends.push(new LoopTransport(this, r, size));
  }

  /** Frames delivered so far. */
  delivered = 0;

  get inFlight(): number {
    return this.q.length - this.head;
  }

  transport(rank: number): LoopTransport {
    return this.ends[rank]!;
  }

  post(from: number, to: number, frame: Frame): void {
    this.q.push({ kind: frame.kind, tag: frame.tag, piggyback: frame.piggyback, payload: frame.payload, from, fromIncarnation: 0 });
    this.to.push(to);
    queueMicrotask(this.deliverOne);
  }
}

class LoopTransport implements Transport {
  private handlers: TransportEvents | null = null;
  constructor(
    private readonly net: LoopNet,
    readonly rank: number,
    readonly size: number,
  ) {}
  send(to: number, frame: Frame): void {
    if (to === this.rank || !(to >= 0 && to < this.size)) throw new RangeError(`loopback: bad destination ${to}`);
    this.net.post(this.rank, to, frame);
  }
  on(events: TransportEvents): void {
    this.handlers = events;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  deliver(fr: InboundFrame): void {
    const h = this.handlers;
    if (h === null) throw new Error(`loopback: rank ${this.rank} has no handlers yet`);
    h.frame(fr);
  }
}

/** `--clock frozen`: timers that never fire (the earlier bench; sender logs and async logs then grow without bound). */
const FROZEN_TIMERS: Timers = {
  now: () => 0,
  every: () => noop,
  after: () => noop,
};
function noop(): void {}

// ---------------------------------------------------------------- the app

interface PingState {
  expect: number;
}

interface PingPong {
  readonly app: App<unknown>;
  /** Rank 0's context, captured in onStart: the bench sends the first ball with it. */
  ctx0: AppContext | null;
  readonly finished: Promise<number>;
}

/**
 * n messages. 2 ranks: rank 0 sends 0, rank 1 echoes, rank 0 sends k+1 ... until n/2 round trips.
 * More ranks (a protocol with f >= 2 needs f + 1): a ring, rank r sends v + 1 to r + 1 on v.
 */
function pingPong(n: number, size: number): PingPong {
  if (size > 2) return ring(n, size);
  const rounds = n / 2;
  let finish: (t: number) => void = noop;
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const pp: PingPong = {
    ctx0: null,
    finished,
    app: {
      init: (): PingState => ({ expect: 0 }),
      onStart: (_state: unknown, ctx: AppContext): void => {
        if (ctx.rank === 0) pp.ctx0 = ctx;
      },
      onMessage: (state: unknown, msg, ctx): void => {
        const st = state as PingState;
        const v = msg.data;
        if (v !== st.expect) throw new Error(`rank ${ctx.rank}: expected ${st.expect}, got ${String(v)}`);
        st.expect++;
        if (ctx.rank === 1) ctx.send(0, v);
        else if (v + 1 < rounds) ctx.send(1, v + 1);
        else {
          finish(performance.now());
          ctx.done();
        }
      },
    },
  };
  return pp;
}

function ring(n: number, size: number): PingPong {
  let finish: (t: number) => void = noop;
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const pp: PingPong = {
    ctx0: null,
    finished,
    app: {
      // Rank r gets r - 1, r - 1 + size, ... (rank 0 sends the first ball, 0, to rank 1).
      init: (o): PingState => ({ expect: (o.rank + size - 1) % size }),
      onStart: (_state: unknown, ctx: AppContext): void => {
        if (ctx.rank === 0) pp.ctx0 = ctx;
      },
      onMessage: (state: unknown, msg, ctx): void => {
        const st = state as PingState;
        const v = msg.data;
        if (v !== st.expect) throw new Error(`rank ${ctx.rank}: expected ${st.expect}, got ${String(v)}`);
        st.expect += size;
        if (v + 1 < n) ctx.send((ctx.rank + 1) % size, v + 1);
        else {
          finish(performance.now());
          ctx.done();
        }
      },
    },
  };
  return pp;
}

// ---------------------------------------------------------------- one run

interface RunResult {
  /** Wall clock. */
  readonly nsPerMsg: number;
  /** Process CPU time (user + system, all threads): what a loaded machine's time slicing does not inflate. */
  readonly cpuNsPerMsg: number;
  readonly stats: readonly (ProtocolStats | null)[];
}

/** Ranks of a child's runs (`--size`, set by the parent per variant): 2, or f + 1 for a protocol with f >= 2. */
const SIZE = Number(values.size);
if (!(Number.isInteger(SIZE) && SIZE >= 2)) throw new RangeError(`--size must be an integer >= 2, got ${values.size}`);

async function runOnce(factory: ProtocolFactory, n: number, kind: TransportKind): Promise<RunResult> {
  const size = SIZE;
  const pp = pingPong(n, size);
  const stable: MemoryStableMedia = new Map();
  const sink = new MemoryOutputSink();
  let failure: string | null = null;
  let rejectFailed: (e: Error) => void = noop;
  const failed = new Promise<never>((_, reject) => {
    rejectFailed = reject;
  });
  failed.catch(noop); // observed through Promise.race below
  const world = kind === "sim" ? new SimWorld({ size, seed: 1, latency: { min: 0, max: 0 } }) : null;
  const clock = kind === "loopback" && CLOCK === "virtual" ? new VirtualClock(FRAME_US) : null;
  const loop = kind === "loopback" ? new LoopNet(size, clock) : null;
  const hosts: RankHost[] = [];
  for (let r = 0; r < size; r++) {
    const transport: Transport = world !== null ? world.transport(r) : loop!.transport(r);
    const f = Math.min(factory.defaultF, size - 1);
    const wiring = wireReplication({ rank: r, size, incarnation: 0, f, send: (to, fr) => transport.send(to, fr) });
    hosts.push(
      new RankHost({
        rank: r,
        size,
        incarnation: 0,
        f,
        app: pp.app,
        protocol: factory,
        transport,
        timers: world !== null ? world.timers(r) : clock !== null ? clock.timers_ : FROZEN_TIMERS,
        storage: createMemoryStorageProvider({ rank: r, stable, replicated: wiring.replicated }),
        sink,
        runtimeFrame: wiring.runtimeFrame,
        events: {
          fatal: (fl) => {
            failure ??= describeFailure(fl);
            rejectFailed(new Error(failure));
          },
          peerRestarted: wiring.peerRestarted,
        },
      }),
    );
  }
  // Virtual clock: a timer some protocol step waits for fires when nothing else can run (a macrotask turn).
  // Only when a whole macrotask turn delivered nothing and nothing is in flight: a protocol
  // waiting on a macrotask (none does on memory storage) must not make time jump.
  let idling = clock !== null;
  let seen = -1;
  const idle = (): void => {
    if (!idling) return;
    if (loop!.delivered === seen && loop!.inFlight === 0) clock!.idle();
    seen = loop!.delivered;
    setImmediate(idle);
  };
  if (idling) setImmediate(idle);
  const started = Promise.all(hosts.map((h) => h.start()));
  if (world !== null) await world.run();
  await started;
  if (pp.ctx0 === null) throw new Error("rank 0 did not start");

  const c0 = process.cpuUsage();
  const t0 = performance.now();
  pp.ctx0.send(1, 0);
  if (world !== null) {
    const r = await world.run();
    if (r.reason !== "idle") throw new Error(`sim stopped: ${r.reason}`);
  }
  const t1 = await Promise.race([pp.finished, failed]);
  const c1 = process.cpuUsage(c0);
  idling = false;
  const stats = await Promise.all(hosts.map((h) => h.stop()));
  if (failure !== null) throw new Error(failure);
  return { nsPerMsg: ((t1 - t0) * 1e6) / n, cpuNsPerMsg: ((c1.user + c1.system) * 1e3) / n, stats };
}

// ---------------------------------------------------------------- child: one variant

function isFactory(x: unknown): x is ProtocolFactory {
  if (typeof x !== "object" || x === null) return false;
  const o = x as Record<string, unknown>;
  return typeof o["protocolName"] === "string" && typeof o["defaultF"] === "number" && typeof o["create"] === "function";
}

async function loadFactory(file: string): Promise<ProtocolFactory> {
  const mod: unknown = await import(pathToFileURL(file).href);
  if (typeof mod === "object" && mod !== null) {
    const m = mod as Record<string, unknown>;
    for (const k of ["protocol", "noneProtocol", "default"]) if (isFactory(m[k])) return m[k];
  }
  throw new Error(`${file} exports no ProtocolFactory`);
}

interface ChildReport {
  /** Wall ns/msg per timed run. */
  readonly samples: number[];
  /** CPU ns/msg per timed run. */
  readonly cpu: number[];
  readonly messages: number;
  /** `--metric instr`: instructions per message per timed run (filled by the parent from callgrind). */
  readonly instr?: number[];
  /** `--metric instr`: of those, the optimizing compiler's own (see compilerInstr). */
  readonly compiler?: number[];
  readonly error?: string;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g !== undefined) g();
}

async function child(file: string): Promise<void> {
  let report: ChildReport;
  try {
    const factory = await loadFactory(file);
    for (let i = 0; i < WARMUP; i++) await runOnce(factory, N, TRANSPORT);
    const samples: number[] = [];
    const cpu: number[] = [];
    let messages = 0;
    for (let i = 0; i < RUNS; i++) {
      gc();
      if (REWARM > 0) await runOnce(factory, REWARM, TRANSPORT);
      const r = await runOnce(factory, N, TRANSPORT);
      samples.push(r.nsPerMsg);
      cpu.push(r.cpuNsPerMsg);
      messages = r.stats.reduce((a, s) => a + (s?.messages ?? 0), 0);
    }
    report = { samples, cpu, messages };
  } catch (e) {
    report = { samples: [], cpu: [], messages: 0, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  if (process.send) process.send(report);
  else {
    const show = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(" ");
    console.log(`${file}: ${report.error ?? `wall ${show(report.samples)} / cpu ${show(report.cpu)}`} ns/msg (${report.messages} protocol sends)`);
  }
}

function childArgs(file: string, size: number): string[] {
  return ["--child", file, "--size", String(size), "--n", String(N), "--runs", String(RUNS), "--warmup", String(WARMUP), "--rewarm", String(REWARM), "--transport", TRANSPORT, "--clock", CLOCK, "--frame-us", String(FRAME_US)];
}

function runChild(file: string, size: number): Promise<ChildReport> {
  return METRIC === "instr" ? runChildInstr(file, size) : runChildCpu(file, size);
}

function runChildCpu(file: string, size: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const cp = fork(SELF, childArgs(file, size), { execArgv: [...process.execArgv, ...SEMI_FLAGS, "--expose-gc"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let got: ChildReport | null = null;
    cp.on("message", (m) => {
      got = m as ChildReport;
    });
    cp.on("error", reject);
    cp.on("exit", (code) => {
      if (got !== null) resolve(got);
      else reject(new Error(`child for ${file} exited with ${code} and no report`));
    });
  });
}

/**
 * `--metric instr`: the child runs under callgrind, which counts executed
 * instructions (all threads: JIT code, the GC, the runtime) and is not
 * inflated by a loaded machine's time slicing, unlike CPU time. `perf stat`
 * would be cheaper but hardware counters are not exposed on this VM
 * (`perf stat -e instructions` says `<not supported>`).
 *
 * The window: runOnce brackets each run with two `process.cpuUsage()` calls,
 * i.e. two `uv_getrusage` calls, and `--dump-before=uv_getrusage` writes a
 * profile part (counters reset) at each: the part dumped at a run's second
 * call holds exactly that run's instructions. The parent checks the child
 * made exactly the calls it expects (2 per run), so a stray getrusage from
 * elsewhere fails the variant instead of mislabelling a window. Slow
 * (~50-100x): --reps 1, and run node with --single-threaded (V8 compiles on
 * the main thread instead of helper threads valgrind serializes). n must not
 * be too small: at n = 4000 the counts were dominated by JIT warm-up and
 * disagreed with CPU time; at n = 16000 (2 warm-up runs) `none` measured
 * 24 364 / 23 828 instructions per message in one process and 24 353 / 23 846
 * in another.
 */
/**
 * Instructions executed in the optimizing compiler's own functions (self
 * cost of `v8::internal::compiler::*` and the compilation jobs; with
 * --single-threaded it runs on the main thread, inside the window) in one
 * callgrind part. Why it is worth separating: each timed run starts with a
 * full GC that frees the previous run's hosts, transports and app closures;
 * optimized code that embedded them (call targets, maps: "weak objects" in
 * --trace-deopt) is thrown away and recompiled inside the window, for `none`
 * and the protocols alike. A long-lived rank compiles its hot path once.
 * Interpreter and baseline execution before the recompilation, and the
 * compiler's malloc calls, stay in the other column.
 */
function compilerInstr(text: string): number {
  let sum = 0;
  for (const [name, self] of selfCostsByName(text)) if (/v8::internal::(compiler::|Compiler::|\w*CompilationJob)/.test(name)) sum += self;
  return sum;
}

function runChildInstr(file: string, size: number): Promise<ChildReport> {
  const out = mkdtempSync(join(tmpdir(), "egida-cg-"));
  const args = [
    "--tool=callgrind",
    "--dump-before=uv_getrusage",
    "--dump-instr=no",
    `--callgrind-out-file=${join(out, "cg.out")}`,
    process.execPath,
    ...process.execArgv,
    ...SEMI_FLAGS,
    "--expose-gc",
    // --perf-basic-prof also makes V8 write isolate-*-v8.log files: into the temporary directory.
    ...(PROFILE > 0 ? ["--perf-basic-prof", "--no-logfile-per-isolate", `--logfile=${join(out, "v8.log")}`] : []),
    SELF,
    ...childArgs(file, size),
  ];
  return new Promise((resolve, reject) => {
    const cp = spawn("valgrind", args, { stdio: ["ignore", "inherit", "pipe", "ipc"] });
    let got: ChildReport | null = null;
    let err = "";
    cp.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
    });
    cp.on("message", (m) => {
      got = m as ChildReport;
    });
    cp.on("error", reject);
    cp.on("exit", (code) => {
      try {
        if (got === null) {
          reject(new Error(`valgrind child for ${file} exited with ${code} and no report:\n${err.split("\n").slice(-20).join("\n")}`));
          return;
        }
        const r: ChildReport = got;
        if (r.error !== undefined) {
          resolve(r);
          return;
        }
        // Parts triggered by --dump-before, in order (file cg.out.<k>, "part: k").
        const parts: { part: number; ir: number; compiler: number; text: string }[] = [];
        for (const f of readdirSync(out)) {
          const text = readFileSync(join(out, f), "utf8");
          if (!text.includes("desc: Trigger: --dump-before")) continue;
          const part = /^part: (\d+)$/m.exec(text);
          const total = /^summary: (\d+)$/m.exec(text);
          if (part === null || total === null) throw new Error(`${f}: no part/summary line`);
          parts.push({ part: Number(part[1]), ir: Number(total[1]), compiler: compilerInstr(text), text: PROFILE > 0 ? text : "" });
        }
        parts.sort((a, b) => a.part - b.part);
        // runOnce calls in order: the warm-ups, then per timed run [a re-warm run,] the timed run.
        const perTimed = REWARM > 0 ? 2 : 1;
        const runs = WARMUP + perTimed * RUNS;
        if (parts.length !== 2 * runs) {
          resolve({ ...r, error: `callgrind: expected ${2 * runs} getrusage dumps (2 per run), got ${parts.length}: a window would be mislabelled` });
          return;
        }
        const instr: number[] = [];
        const compiler: number[] = [];
        for (let t = 0; t < RUNS; t++) {
          const i = WARMUP + perTimed * t + perTimed - 1;
          instr.push(parts[2 * i + 1]!.ir / N);
          compiler.push(parts[2 * i + 1]!.compiler / N);
        }
        if (PROFILE > 0) {
          const last = parts[2 * (WARMUP + perTimed * RUNS - 1) + 1]!;
          const rows = selfCosts(last.text, cp.pid!).slice(0, PROFILE);
          console.log(`    profile of ${file.split("/").pop()}, last timed window (${fmt(last.ir / N)} instructions/msg), self instructions/msg:`);
          for (const r of rows) console.log(`      ${fmt(r.self / N, 1).padStart(8)}  ${r.name}`);
        }
        resolve({ ...r, instr, compiler });
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  });
}

// ---------------------------------------------------------------- parent

interface Variant {
  readonly protocol: string;
  readonly backend: "none" | "inline" | "modular";
  readonly file: string;
  /** Ranks: 2, or f + 1 for a protocol with f >= 2 (`none` is measured at each size in use). */
  readonly size: number;
  samples: number[];
  cpu: number[];
  instr: number[];
  /** `--metric instr`: the optimizing compiler's part of `instr`, per timed run. */
  compiler: number[];
  /** First line of the error when a run failed (the variant is then reported, not measured). */
  error?: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fmt(x: number, digits = 0): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "n/a";
}

async function parent(): Promise<void> {
  const cmd = `npx tsx bench/overhead.ts ${process.argv.slice(2).join(" ")}`.trim();
  const cpu = cpus();
  console.log(`egida per-message overhead: ${cmd}`);
  console.log(`machine: ${cpu[0]?.model ?? "unknown cpu"}, ${cpu.length} logical cores, node ${process.version}, ${process.platform}/${process.arch}`);
  console.log(`load average before the run: ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  console.log(`app: 2-rank ping-pong (a ring of f + 1 ranks for a protocol with f >= 2), n=${N} messages; transport ${TRANSPORT}; clock ${CLOCK === "virtual" && TRANSPORT === "loopback" ? `virtual, ${FRAME_US} µs per frame` : TRANSPORT === "sim" ? "the sim's" : "frozen"}; memory storage; ${REPS} processes x ${RUNS} timed runs (+${WARMUP} warm-up) per variant${REWARM > 0 ? `, each timed run after an untimed re-warm run of ${REWARM}` : ""}; metric ${METRIC === "instr" ? "instructions (callgrind)" : "CPU time"}; young generation ${SEMI_SPACE > 0 ? `fixed at ${SEMI_SPACE} MB per semi-space` : "V8's adaptive sizing"}`);

  const t0 = performance.now();
  // Only the parent generates code: a child loads no compiler (ts-morph and TypeScript take
  // seconds to load, minutes under callgrind).
  const { emitSource } = await import("../compiler/src/codegen/package.js");
  const { blockLibrary } = await import("../compiler/src/codegen/pipeline.js");
  const { regenerate } = await import("../compiler/src/codegen/regen.js");
  const regen = await regenerate(ROOT);
  const lib = blockLibrary();
  const dir = mkdtempSync(join(tmpdir(), "egida-overhead-"));
  // Generated modules import the runtime's protocol helpers (`@egida/runtime-core/protocol-lib`): resolve them to this workspace's.
  mkdirSync(join(dir, "node_modules/@egida"), { recursive: true });
  symlinkSync(join(ROOT, "runtime-core"), join(dir, "node_modules/@egida/runtime-core"), "dir");
  const variants: Variant[] = [];
  const noneAt = (size: number): Variant => {
    let v = variants.find((x) => x.backend === "none" && x.size === size);
    if (v === undefined) variants.push((v = { protocol: "none", backend: "none", file: NONE_FILE, size, samples: [], cpu: [], instr: [], compiler: [] }));
    return v;
  };
  noneAt(2);
  for (const p of regen.packages) {
    const name = p.input.checked.ir.name;
    if (ONLY !== null && !ONLY.some((o) => name.includes(o))) continue;
    // f + 1 holders are needed before a determinant is stable: with fewer ranks it never is, and piggybacks grow without bound.
    const size = Math.max(2, p.input.checked.ir.options.f + 1);
    noneAt(size);
    for (const backend of ["inline", "modular"] as const) {
      // .mts: the temporary directory has no package.json saying "type": "module".
      const file = join(dir, `${name}.${backend}.mts`);
      writeFileSync(file, emitSource(lib, p.input, backend));
      variants.push({ protocol: name, backend, file, size, samples: [], cpu: [], instr: [], compiler: [] });
    }
  }
  console.log(`generated ${variants.filter((v) => v.backend !== "none").length} sources in ${fmt(performance.now() - t0)} ms${values.keep ? ` (kept in ${dir})` : ""}`);
  if (regen.unsupported.length > 0) {
    console.log(`not generated (block library): ${regen.unsupported.map((u) => u.spec.replace(/^specs\//, "").replace(/\.egida$/, "")).join(", ")}`);
  }

  try {
    for (let rep = 0; rep < REPS; rep++) {
      const order = variants.map((_, i) => variants[(i + rep) % variants.length]!);
      for (const v of order) {
        if (v.error !== undefined) continue;
        const r = await runChild(v.file, v.size);
        if (r.error !== undefined) {
          v.error = r.error.split("\n")[0]!;
          process.stderr.write(`  ${v.protocol} ${v.backend} FAILED (not measured further):\n${r.error}\n`);
          continue;
        }
        v.samples.push(...r.samples);
        v.cpu.push(...r.cpu);
        v.instr.push(...(r.instr ?? []));
        v.compiler.push(...(r.compiler ?? []));
        const show = (xs: number[]): string => xs.map((x) => fmt(x)).join(" ");
        const ins = r.instr !== undefined ? ` / ${show(r.instr)} instructions/msg (of which the optimizing compiler ${show(r.compiler ?? [])})` : "";
        process.stderr.write(`  rep ${rep + 1}/${REPS} ${v.protocol} ${v.backend} (${v.size} ranks): wall ${show(r.samples)} / cpu ${show(r.cpu)} ns/msg${ins}\n`);
      }
    }
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }

  // The primary metric: CPU ns/msg, or (--metric instr) instructions/msg; wall time is printed alongside.
  const primary = (v: Variant): number[] => (METRIC === "instr" ? v.instr : v.cpu);
  const stat = (v: Variant): { wall: number; cpu: number; cpuMin: number } => ({ wall: median(v.samples), cpu: median(primary(v)), cpuMin: Math.min(...primary(v)) });
  const rows: string[][] = [
    ["protocol", "backend", "ranks", METRIC === "instr" ? "instr/msg" : "CPU ns/msg", METRIC === "instr" ? "instr min" : "CPU min", METRIC === "instr" ? "wall ns/msg (valgrind)" : "wall ns/msg", "over none", "over none (min)", "modular/inline overhead", "(min)"],
  ];
  // --metric instr: the same without the optimizing compiler's own instructions (see compilerInstr).
  const exclRows: string[][] = [["protocol", "backend", "ranks", "instr/msg excl. compiler", "compiler instr/msg", "over none excl. compiler", "modular/inline overhead"]];
  const excl = (v: Variant): number => median(v.instr.map((x, i) => x - (v.compiler[i] ?? 0)));
  for (const none of variants.filter((v) => v.backend === "none")) {
    if (none.error !== undefined) throw new Error(`none (${none.size} ranks) failed: ${none.error}`);
    const b = stat(none);
    rows.push(["none", "-", String(none.size), fmt(b.cpu), fmt(b.cpuMin), fmt(b.wall), "0", "0", "", ""]);
    if (METRIC === "instr") exclRows.push(["none", "-", String(none.size), fmt(excl(none)), fmt(median(none.compiler)), "0", ""]);
  }
  for (const p of regen.packages) {
    const name = p.input.checked.ir.name;
    const inl = variants.find((v) => v.protocol === name && v.backend === "inline");
    const mod = variants.find((v) => v.protocol === name && v.backend === "modular");
    if (inl === undefined || mod === undefined) continue;
    const none = variants.find((v) => v.backend === "none" && v.size === inl.size)!;
    const b = stat(none);
    const noneExcl = METRIC === "instr" ? excl(none) : 0;
    const size = String(inl.size);
    const failedRow = (v: Variant): void => {
      rows.push([name, v.backend, size, `FAILED: ${v.error ?? ""}`, "", "", "", "", "", ""]);
    };
    if (inl.error !== undefined || mod.error !== undefined) {
      for (const v of [inl, mod]) {
        if (v.error !== undefined) failedRow(v);
        else {
          const st = stat(v);
          rows.push([name, v.backend, size, fmt(st.cpu), fmt(st.cpuMin), fmt(st.wall), fmt(st.cpu - b.cpu), fmt(st.cpuMin - b.cpuMin), "", ""]);
        }
      }
      continue;
    }
    const si = stat(inl);
    const sm = stat(mod);
    if (METRIC === "instr") {
      const ei = excl(inl) - noneExcl;
      const em = excl(mod) - noneExcl;
      exclRows.push([name, "inline", size, fmt(excl(inl)), fmt(median(inl.compiler)), fmt(ei), ""]);
      exclRows.push([name, "modular", size, fmt(excl(mod)), fmt(median(mod.compiler)), fmt(em), ei > 0 ? `${fmt(em / ei, 2)}x` : "n/a"]);
    }
    const ratio = (m: number, i: number): string => (i > 0 ? `${fmt(m / i, 2)}x` : "n/a");
    for (const [v, st] of [
      [inl, si],
      [mod, sm],
    ] as const) {
      rows.push([
        name,
        v.backend,
        size,
        fmt(st.cpu),
        fmt(st.cpuMin),
        fmt(st.wall),
        fmt(st.cpu - b.cpu),
        fmt(st.cpuMin - b.cpuMin),
        v.backend === "modular" ? ratio(sm.cpu - b.cpu, si.cpu - b.cpu) : "",
        v.backend === "modular" ? ratio(sm.cpuMin - b.cpuMin, si.cpuMin - b.cpuMin) : "",
      ]);
    }
  }
  console.log("");
  console.log(`load average after the run: ${loadavg().map((x) => x.toFixed(2)).join(" ")} (${cpu.length} cores)`);
  printTable(rows);
  if (METRIC === "instr") {
    console.log("");
    printTable(exclRows);
  }
}

function printTable(rows: readonly (readonly string[])[]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const line = (r: readonly string[]): string => `| ${r.map((x, c) => (c < 2 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join(" | ")} |`;
  console.log(line(rows[0]!));
  console.log(`|${widths.map((w, c) => (c < 2 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`);
  for (const r of rows.slice(1)) console.log(line(r));
}

if (values.child !== undefined) await child(values.child);
else await parent();
