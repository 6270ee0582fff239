/**
 * Per-message protocol overhead (not a test): ns per send + delivery for every
 * generated protocol, inline and modular back ends, against `none`.
 *
 *   npx tsx bench/overhead.ts [--n 200000] [--reps 5] [--runs 3] [--warmup 2]
 *                             [--transport loopback|sim] [--only <substring>] [--keep]
 *
 * What runs: for every spec in specs/ the block library implements, the
 * inline and the modular source are emitted in memory from the SAME block
 * library (compiler/src/codegen: regenerate + emitSource) into a temporary
 * directory, and loaded with tsx next to runtime-core's `none`.
 *
 * App: 2 ranks ping-pong `n` small messages (n/2 round trips; the data is a
 * small integer, ~4 bytes after v8 serialization), each side checking it gets
 * exactly the sequence it expects. Everything a real rank runs is on the path:
 * AppContext.send → v8 serialize → Protocol.send → Transport → RankHost.onFrame
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
 * Timers are frozen (now() = 0, nothing fires): flush and checkpoint timers
 * (100 ms .. 5 s) are not part of the per-message path.
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
import { fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { emitSource } from "../compiler/src/codegen/package.js";
import { blockLibrary } from "../compiler/src/codegen/pipeline.js";
import { regenerate } from "../compiler/src/codegen/regen.js";
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

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "200000" },
    reps: { type: "string", default: "5" },
    runs: { type: "string", default: "3" },
    warmup: { type: "string", default: "2" },
    transport: { type: "string", default: "loopback" },
    only: { type: "string" },
    keep: { type: "boolean", default: false },
    child: { type: "string" },
  },
});

const N = even(Number(values.n));
const REPS = positive(Number(values.reps), "reps");
const RUNS = positive(Number(values.runs), "runs");
const WARMUP = Math.max(0, Math.floor(Number(values.warmup)));
const TRANSPORT = transportKind(values.transport ?? "loopback");

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

  constructor(readonly size: number) {
    for (let r = 0; r < size; r++) this.ends.push(new LoopTransport(this, r, size));
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

/** Timers that never fire: the measured window is the per-message path only. */
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

/** n messages: rank 0 sends 0, rank 1 echoes, rank 0 sends k+1 ... until n/2 round trips. */
function pingPong(n: number): PingPong {
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

// ---------------------------------------------------------------- one run

interface RunResult {
  /** Wall clock. */
  readonly nsPerMsg: number;
  /** Process CPU time (user + system, all threads): what a loaded machine's time slicing does not inflate. */
  readonly cpuNsPerMsg: number;
  readonly stats: readonly (ProtocolStats | null)[];
}

const SIZE = 2;

async function runOnce(factory: ProtocolFactory, n: number, kind: TransportKind): Promise<RunResult> {
  const size = SIZE;
  const pp = pingPong(n);
  const stable: MemoryStableMedia = new Map();
  const sink = new MemoryOutputSink();
  let failure: string | null = null;
  let rejectFailed: (e: Error) => void = noop;
  const failed = new Promise<never>((_, reject) => {
    rejectFailed = reject;
  });
  failed.catch(noop); // observed through Promise.race below
  const world = kind === "sim" ? new SimWorld({ size, seed: 1, latency: { min: 0, max: 0 } }) : null;
  const loop = kind === "loopback" ? new LoopNet(size) : null;
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
        timers: world !== null ? world.timers(r) : FROZEN_TIMERS,
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

function runChild(file: string): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const args = ["--child", file, "--n", String(N), "--runs", String(RUNS), "--warmup", String(WARMUP), "--transport", TRANSPORT];
    const cp = fork(SELF, args, { execArgv: [...process.execArgv, "--expose-gc"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
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

// ---------------------------------------------------------------- parent

interface Variant {
  readonly protocol: string;
  readonly backend: "none" | "inline" | "modular";
  readonly file: string;
  samples: number[];
  cpu: number[];
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
  console.log(`app: 2-rank ping-pong, n=${N} messages; transport ${TRANSPORT}; memory storage; ${REPS} processes x ${RUNS} timed runs (+${WARMUP} warm-up) per variant`);

  const t0 = performance.now();
  const regen = await regenerate(ROOT);
  const lib = blockLibrary();
  const dir = mkdtempSync(join(tmpdir(), "egida-overhead-"));
  const skipped: string[] = [];
  const variants: Variant[] = [{ protocol: "none", backend: "none", file: NONE_FILE, samples: [], cpu: [] }];
  for (const p of regen.packages) {
    const name = p.input.checked.ir.name;
    if (values.only !== undefined && !name.includes(values.only)) continue;
    const f = p.input.checked.ir.options.f;
    if (f >= SIZE) {
      // f + 1 holders are needed before a determinant is stable: with 2 ranks it never is, piggybacks grow without bound.
      skipped.push(`${name} (f=${f} needs >= ${f + 1} ranks)`);
      continue;
    }
    for (const backend of ["inline", "modular"] as const) {
      // .mts: the temporary directory has no package.json saying "type": "module".
      const file = join(dir, `${name}.${backend}.mts`);
      writeFileSync(file, emitSource(lib, p.input, backend));
      variants.push({ protocol: name, backend, file, samples: [], cpu: [] });
    }
  }
  console.log(`generated ${variants.length - 1} sources in ${fmt(performance.now() - t0)} ms${values.keep ? ` (kept in ${dir})` : ""}`);
  if (skipped.length > 0) console.log(`skipped (the 2-rank app cannot run them meaningfully): ${skipped.join(", ")}`);
  if (regen.unsupported.length > 0) {
    console.log(`not generated (block library): ${regen.unsupported.map((u) => u.spec.replace(/^specs\//, "").replace(/\.egida$/, "")).join(", ")}`);
  }

  try {
    for (let rep = 0; rep < REPS; rep++) {
      const order = variants.map((_, i) => variants[(i + rep) % variants.length]!);
      for (const v of order) {
        if (v.error !== undefined) continue;
        const r = await runChild(v.file);
        if (r.error !== undefined) {
          v.error = r.error.split("\n")[0]!;
          process.stderr.write(`  ${v.protocol} ${v.backend} FAILED (not measured further):\n${r.error}\n`);
          continue;
        }
        v.samples.push(...r.samples);
        v.cpu.push(...r.cpu);
        const show = (xs: number[]): string => xs.map((x) => fmt(x)).join(" ");
        process.stderr.write(`  rep ${rep + 1}/${REPS} ${v.protocol} ${v.backend}: wall ${show(r.samples)} / cpu ${show(r.cpu)} ns/msg\n`);
      }
    }
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }

  const none = variants[0]!;
  const stat = (v: Variant): { wall: number; cpu: number; cpuMin: number } => ({ wall: median(v.samples), cpu: median(v.cpu), cpuMin: Math.min(...v.cpu) });
  if (none.error !== undefined) throw new Error(`none failed: ${none.error}`);
  const b = stat(none);
  const rows: string[][] = [
    ["protocol", "backend", "CPU ns/msg", "CPU min", "wall ns/msg", "over none", "over none (min)", "modular/inline overhead", "(min)"],
  ];
  rows.push(["none", "-", fmt(b.cpu), fmt(b.cpuMin), fmt(b.wall), "0", "0", "", ""]);
  for (const p of regen.packages) {
    const name = p.input.checked.ir.name;
    const inl = variants.find((v) => v.protocol === name && v.backend === "inline");
    const mod = variants.find((v) => v.protocol === name && v.backend === "modular");
    if (inl === undefined || mod === undefined) continue;
    const failedRow = (v: Variant): void => {
      rows.push([name, v.backend, `FAILED: ${v.error ?? ""}`, "", "", "", "", "", ""]);
    };
    if (inl.error !== undefined || mod.error !== undefined) {
      for (const v of [inl, mod]) {
        if (v.error !== undefined) failedRow(v);
        else {
          const st = stat(v);
          rows.push([name, v.backend, fmt(st.cpu), fmt(st.cpuMin), fmt(st.wall), fmt(st.cpu - b.cpu), fmt(st.cpuMin - b.cpuMin), "", ""]);
        }
      }
      continue;
    }
    const si = stat(inl);
    const sm = stat(mod);
    const ratio = (m: number, i: number): string => (i > 0 ? `${fmt(m / i, 2)}x` : "n/a");
    for (const [v, st] of [
      [inl, si],
      [mod, sm],
    ] as const) {
      rows.push([
        name,
        v.backend,
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
