/**
 * Real jobs over TCP (not a test): what a user's job costs under each
 * generated protocol, next to `--protocol none` and next to a hand-written
 * program on plain sockets.
 *
 *   npx tsx bench/job.ts [--workload stream,jacobi,cg,startup,recovery] [--protocol P,...] [--reps 3] [--quick]
 *                        [--timeout 300000] [--json FILE] [--cpus LIST]
 *
 * Variants, per workload:
 *  - `none`: `egida-run --protocol none` (the runtime, no fault tolerance);
 *  - every protocol in generated/ (or those given): `egida-run --protocol DIR`,
 *    where DIR is the package transpiled once to JS (test/realproc/lib/
 *    protocols.ts builtProtocol), so no rank loads TypeScript through tsx;
 *  - `raw`: bench/raw/launch.mjs, one process per rank, the same app module
 *    driven over node:net + v8.serialize with a 4-byte length prefix: what a
 *    user writes by hand without fault tolerance.
 * Repetitions are interleaved (rep k runs every variant once, the order
 * rotated by k), so drift on a shared machine hits every variant alike.
 *
 * Measured per run: wall time (spawn to exit, process start-up included),
 * CPU time (user + sys of every process of the job: the launcher and each
 * rank report their own process.cpuUsage() at exit through bench/raw/
 * probe.mjs, loaded with --import and inherited by the forked ranks; libuv's
 * fsync threads are part of their process), durable writes: fsync/fdatasync
 * calls and writes to files opened O_DSYNC (counted by the same probe in
 * every process: logs, checkpoints, directory syncs), and
 * from egida-run's job summary: messages, piggyback bytes, bytes logged,
 * checkpoints. Reported: medians [min–max] and ratios of the medians to
 * `none` and to `raw`.
 *
 * The stream, jacobi and cg workloads also run each variant on a short twin
 * of the job (a tenth of the messages, a quarter of the iterations), right
 * after it: "msgs/s after start-up" divides the difference in messages by
 * the difference in wall time, and "CPU ×none after start-up" divides the
 * difference in CPU time by `none`'s, paired by repetition (medians of the
 * differences). The fixed cost of a job (start-up, connections, the initial
 * and final checkpoints, the finish phase) drops out of both: they are what
 * a long job pays per message, where "CPU ×none" is what this job paid.
 * Each stream rep then also runs bench/transport.ts --loopback (two
 * TcpTransports in one process, batched, 64 B frames): the wire's rate on
 * this machine, now.
 *
 * `--cpus LIST` runs every job (and the loopback) under `taskset -c LIST`,
 * Linux only. On a shared VM whose load moves, a job confined to one CPU
 * gives CPU times that repeat within a few percent (`none` on jacobi:
 * 3.66–3.80 s over 3 repetitions, against 4.70–5.31 s unpinned in another
 * run), so a ratio to `none` then measures the protocols' work rather than
 * the neighbours. Wall times grow: the ranks share that CPU.
 *
 * The `recovery` workload SIGKILLs one rank mid-run (egida-run --kill) under
 * every protocol (not `none` or `raw`, which cannot recover) and reports the
 * time from its death to its next incarnation being live, as egida-run's
 * recovery line gives it (restart delay included), with the replayed
 * deliveries and the rollbacks it took.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { parseSummary } from "../test/realproc/lib/run.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const EGIDA_RUN = join(ROOT, "runtime-core/bin/egida-run.js");
const RAW_LAUNCH = join(ROOT, "bench/raw/launch.mjs");
const PROBE = pathToFileURL(join(ROOT, "bench/raw/probe.mjs")).href;

interface Workload {
  readonly name: string;
  readonly what: string;
  readonly app: string;
  readonly ranks: number;
  readonly args: readonly string[];
  /** egida-run --kill value: a recovery workload (protocols only). */
  readonly kill?: string;
  /**
   * The same job with fewer messages, run beside it in every repetition: the
   * differences between the two (messages over wall time; CPU time against
   * `none`'s) leave out start-up, connections and the finish phase.
   */
  readonly short?: readonly string[];
  /** Also time bench/transport.ts's batched loopback in every repetition (the wire's rate, for a throughput-bound workload). */
  readonly loopback?: boolean;
}

// Quick jobs run on 3 ranks: the largest f among the specs is 2, and a causal
// protocol whose determinants need f + 1 holders never finishes on fewer ranks.
const WORKLOADS: Record<string, { full: Workload; quick: Workload }> = {
  stream: {
    full: { name: "stream", what: "2 sender->receiver pairs, 100 000 small messages each (and the same with 10 000), window 256 (throughput-bound)", app: "examples/apps/stream.mjs", ranks: 4, args: ["100000", "256"], short: ["10000", "256"], loopback: true },
    quick: { name: "stream", what: "1 pair (and an idle rank), 300 messages (and 100), window 32", app: "examples/apps/stream.mjs", ranks: 3, args: ["300", "32"], short: ["100", "32"], loopback: true },
  },
  jacobi: {
    full: { name: "jacobi", what: "64x64 grid, 4000 iterations (and 1000), halo exchange on 4 ranks (latency-bound)", app: "examples/apps/jacobi.mjs", ranks: 4, args: ["64", "4000"], short: ["64", "1000"] },
    quick: { name: "jacobi", what: "16x16 grid, 20 iterations (and 5) on 3 ranks", app: "examples/apps/jacobi.mjs", ranks: 3, args: ["16", "20"], short: ["16", "5"] },
  },
  cg: {
    full: { name: "cg", what: "NAS-CG-like: 100 000 unknowns per rank, 13-point band, 100 iterations (and 25), 2 allreduces each, 4 ranks", app: "examples/apps/nas-cg.mjs", ranks: 4, args: ["100000", "100"], short: ["100000", "25"] },
    quick: { name: "cg", what: "1 000 unknowns per rank, 5 iterations (and 2) on 3 ranks", app: "examples/apps/nas-cg.mjs", ranks: 3, args: ["1000", "5"], short: ["1000", "2"] },
  },
  // The fixed cost of a job (start-up, connections, finish phase): subtract it to see the per-message cost of short jobs.
  startup: {
    full: { name: "startup", what: "jacobi with 1 iteration on 4 ranks: start-up, connections and finish only", app: "examples/apps/jacobi.mjs", ranks: 4, args: ["64", "1"] },
    quick: { name: "startup", what: "jacobi with 1 iteration on 3 ranks", app: "examples/apps/jacobi.mjs", ranks: 3, args: ["16", "1"] },
  },
  recovery: {
    full: { name: "recovery", what: "jacobi 64x64, 1000 iterations on 4 ranks, rank 2 SIGKILLed at its delivery 1000", app: "examples/apps/jacobi.mjs", ranks: 4, args: ["64", "1000"], kill: "2@1000msgs" },
    quick: { name: "recovery", what: "jacobi 16x16, 40 iterations on 3 ranks, rank 1 SIGKILLed at its delivery 30", app: "examples/apps/jacobi.mjs", ranks: 3, args: ["16", "40"], kill: "1@30msgs" },
  },
};

interface Variant {
  readonly name: string;
  /** egida-run's --protocol value, or null for the raw program. */
  readonly protocol: string | null;
}

interface Run {
  readonly ok: boolean;
  readonly error?: string;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly processes: number;
  /** Most CPUs any of its processes could run on (their affinity, as the probe saw it). */
  readonly cpus: number;
  readonly syncs: number;
  readonly messages: number;
  readonly piggybackBytes: number;
  readonly bytesLogged: number;
  readonly checkpoints: number;
  /** Recovery workload: ms from the killed rank's death to its next incarnation live (null: no recovery line). */
  readonly killToLiveMs: number | null;
  readonly replayed: number;
  readonly rollbacks: number;
}

interface Stat {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface Row {
  readonly variant: string;
  readonly runs: number;
  readonly failures: number;
  readonly errors: readonly string[];
  readonly wallMs: Stat | null;
  readonly cpuMs: Stat | null;
  readonly messagesPerSec: number | null;
  /** Workloads with a short twin: (messages − the short job's) / (wall − the short job's), medians. */
  readonly steadyMessagesPerSec: number | null;
  readonly syncsPerMessage: number | null;
  readonly piggybackPerMessage: number | null;
  readonly loggedPerMessage: number | null;
  readonly bytesLogged: number | null;
  readonly checkpoints: number | null;
  /** The most CPUs any process of any of its runs could use (1 under --cpus 0). */
  readonly cpus: number | null;
  readonly wallVsNone: number | null;
  readonly cpuVsNone: number | null;
  readonly wallVsRaw: number | null;
  readonly cpuVsRaw: number | null;
  /** Workloads with a short twin: CPU ms of the job beyond its twin's (per repetition; the median), or null. */
  readonly steadyCpuMs: number | null;
  /**
   * Workloads with a short twin: the CPU time the extra messages cost against what they cost `none`
   * (per repetition, the job's CPU less its twin's; medians). Start-up, connections and the finish
   * phase cancel, so this is the steady-state overhead of a long job; cpuVsNone includes them.
   */
  readonly steadyCpuVsNone: number | null;
  /** Recovery workload only. */
  readonly killToLiveMs: Stat | null;
  readonly replayed: number | null;
  readonly rollbacks: number | null;
}

export interface WorkloadResult {
  readonly workload: string;
  readonly what: string;
  readonly command: string;
  readonly rows: readonly Row[];
  /** Workloads with `loopback`: bench/transport.ts --loopback, messages/s, median of one run per rep. */
  readonly loopbackMessagesPerSec?: number;
}

const USAGE = "Usage: npx tsx bench/job.ts [--workload stream,jacobi,cg,startup,recovery] [--protocol P,...] [--reps N] [--quick] [--timeout MS] [--json FILE] [--cpus LIST]";

/** `--cpus`: the CPU list every job runs on (taskset -c), or null. */
let pinTo: string | null = null;

/** The command for a job: node with `argv`, under taskset when --cpus is given. */
function command(argv: readonly string[]): [string, string[]] {
  return pinTo === null ? [process.execPath, [...argv]] : ["taskset", ["-c", pinTo, process.execPath, ...argv]];
}

function usage(msg: string): never {
  process.stderr.write(`bench/job.ts: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function list(v: string | undefined): string[] | null {
  return v === undefined ? null : v.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function stat(xs: readonly number[]): Stat | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

function medianOf(runs: readonly Run[], f: (r: Run) => number): number | null {
  return stat(runs.map(f))?.median ?? null;
}

/** Run one job to its end; never throws (a failed run is reported as one). */
function runOnce(v: Variant, w: Workload, timeoutMs: number): Promise<Run> {
  const probeDir = mkdtempSync(join(tmpdir(), "egida-bench-probe-"));
  const app = join(ROOT, w.app);
  const argv =
    v.protocol === null
      ? ["--import", PROBE, RAW_LAUNCH, String(w.ranks), app, ...w.args]
      : ["--import", PROBE, EGIDA_RUN, "-n", String(w.ranks), ...(w.kill === undefined ? ["-q"] : ["--kill", w.kill]), "--protocol", v.protocol, "--timeout", String(timeoutMs), app, "--", ...w.args];
  const t0 = performance.now();
  const [cmd, args] = command(argv);
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, EGIDA_BENCH_PROBE_DIR: probeDir }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  // egida-run enforces --timeout itself; this guard covers a launcher that hangs anyway.
  const guard = setTimeout(() => child.kill("SIGKILL"), timeoutMs + 30_000);
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      const wallMs = performance.now() - t0;
      clearTimeout(guard);
      let cpuUs = 0;
      let syncs = 0;
      let processes = 0;
      let cpuCount = 0;
      for (const f of readdirSync(probeDir)) {
        const p = JSON.parse(readFileSync(join(probeDir, f), "utf8")) as { userUs: number; systemUs: number; syncs: number; cpus: number };
        cpuUs += p.userUs + p.systemUs;
        syncs += p.syncs;
        cpuCount = Math.max(cpuCount, p.cpus);
        processes++;
      }
      rmSync(probeDir, { recursive: true, force: true });
      const lines = stderr.split("\n");
      let error: string | undefined;
      let messages = 0;
      let piggybackBytes = 0;
      let bytesLogged = 0;
      let checkpoints = 0;
      let rollbacks = 0;
      // "rank 2 incarnation 1 is live (40 replayed, 4 rollback(s) meanwhile, 856 ms from its death)"
      const live = /incarnation \d+ is live \((\d+) replayed(?:, (\d+) rollback\(s\) meanwhile)?, (\d+) ms from its death\)/.exec(stderr);
      if (v.protocol === null) {
        const m = /raw summary: messages (\d+)/.exec(stderr);
        if (m) messages = Number(m[1]);
        else error = "no raw summary";
      } else {
        const s = parseSummary(lines);
        if (s === null) error = "no job summary";
        else ({ messages, piggybackBytes, bytesLogged, checkpoints, rollbacks } = s);
      }
      if (w.kill !== undefined && live === null && error === undefined) error = "no recovery line (rank never came back live)";
      if (code !== 0) error = `exit ${signal ?? code}: ${lines.filter((l) => l.trim() !== "").slice(-1)[0] ?? ""}`;
      // Every process of a finished job exits through process.exit and reports; fewer means one was killed.
      // A killed rank's process never reports its CPU: one fewer is expected.
      else if (error === undefined && w.kill === undefined && processes < w.ranks + 1) error = `${w.ranks + 1 - processes} process(es) did not report CPU`;
      const killToLiveMs = live === null ? null : Number(live[3]);
      const replayed = live === null ? 0 : Number(live[1]);
      resolve({ ok: error === undefined, error, wallMs, cpuMs: cpuUs / 1000, processes, cpus: cpuCount, syncs, messages, piggybackBytes, bytesLogged, checkpoints, killToLiveMs, replayed, rollbacks });
    });
  });
}

function ratio(a: Stat | null, b: Stat | null): number | null {
  return a === null || b === null || b.median === 0 ? null : a.median / b.median;
}

/** Per repetition, `f` of the job less `f` of its short twin (both run and succeeded). */
function pairedDiffs(runs: readonly Run[], short: readonly Run[], f: (r: Run) => number): number[] {
  const d: number[] = [];
  for (let k = 0; k < Math.min(runs.length, short.length); k++) {
    const a = runs[k]!;
    const b = short[k]!;
    if (a.ok && b.ok) d.push(f(a) - f(b));
  }
  return d;
}

/**
 * Messages/s after start-up: the job and its short twin run back to back in
 * every repetition, so the two are paired by repetition (drift between
 * repetitions cancels) and the rate is the median difference in messages
 * over the median difference in wall time. The difference of the two
 * medians instead let one slow twin in one repetition and one fast job in
 * another yield more than the loopback's rate. Null without a positive
 * difference.
 */
function steadyRate(runs: readonly Run[], short: readonly Run[]): number | null {
  const w = stat(pairedDiffs(runs, short, (r) => r.wallMs));
  const m = stat(pairedDiffs(runs, short, (r) => r.messages));
  return w === null || m === null || w.median <= 0 ? null : m.median / (w.median / 1000);
}

/** CPU ms the long job costs over its short twin: the median of the paired differences (null without a positive one). */
function steadyCpu(runs: readonly Run[], short: readonly Run[]): number | null {
  const c = stat(pairedDiffs(runs, short, (r) => r.cpuMs));
  return c === null || c.median <= 0 ? null : c.median;
}

function summarize(name: string, runs: readonly Run[], short: readonly Run[]): Omit<Row, "wallVsNone" | "cpuVsNone" | "wallVsRaw" | "cpuVsRaw" | "steadyCpuVsNone"> {
  const ok = runs.filter((r) => r.ok);
  const wall = stat(ok.map((r) => r.wallMs));
  const msgs = medianOf(ok, (r) => r.messages);
  const perMsg = (f: (r: Run) => number): number | null => medianOf(ok.filter((r) => r.messages > 0), (r) => f(r) / r.messages);
  return {
    variant: name,
    runs: runs.length,
    failures: runs.length - ok.length,
    errors: runs.filter((r) => !r.ok).map((r) => r.error ?? "?"),
    wallMs: wall,
    cpuMs: stat(ok.map((r) => r.cpuMs)),
    messagesPerSec: wall === null || msgs === null ? null : msgs / (wall.median / 1000),
    steadyMessagesPerSec: steadyRate(runs, short),
    steadyCpuMs: steadyCpu(runs, short),
    syncsPerMessage: perMsg((r) => r.syncs),
    piggybackPerMessage: perMsg((r) => r.piggybackBytes),
    loggedPerMessage: perMsg((r) => r.bytesLogged),
    bytesLogged: medianOf(ok, (r) => r.bytesLogged),
    checkpoints: medianOf(ok, (r) => r.checkpoints),
    cpus: ok.length === 0 ? null : Math.max(...ok.map((r) => r.cpus)),
    killToLiveMs: stat(ok.flatMap((r) => (r.killToLiveMs === null ? [] : [r.killToLiveMs]))),
    replayed: medianOf(ok, (r) => r.replayed),
    rollbacks: medianOf(ok, (r) => r.rollbacks),
  };
}

const fmt = {
  s: (x: Stat | null): string => (x === null ? "-" : `${(x.median / 1000).toFixed(2)} [${(x.min / 1000).toFixed(2)}–${(x.max / 1000).toFixed(2)}]`),
  n: (x: number | null, d = 0): string => (x === null ? "-" : x.toFixed(d)),
  k: (x: number | null): string => (x === null ? "-" : x >= 1e6 ? `${(x / 1e6).toFixed(1)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0)),
  r: (x: number | null): string => (x === null ? "-" : `${x.toFixed(2)}×`),
};

export const TABLE_HEADER =
  "| variant | wall s, median [min–max] | CPU s, median [min–max] | msgs/s | msgs/s after start-up | fsyncs/msg | piggyback B/msg | logged B/msg | checkpoints | wall ×none | CPU ×none | wall ×raw | CPU ×raw | CPU ×none after start-up |";

function table(rows: readonly Row[]): string {
  const out = [TABLE_HEADER, "|" + " --- |".repeat(14)];
  for (const r of rows) {
    const fail = r.failures > 0 ? ` (${r.failures}/${r.runs} failed)` : "";
    out.push(
      `| ${r.variant}${fail} | ${fmt.s(r.wallMs)} | ${fmt.s(r.cpuMs)} | ${fmt.k(r.messagesPerSec)} | ${fmt.k(r.steadyMessagesPerSec)} | ${fmt.n(r.syncsPerMessage, 3)} | ${fmt.n(r.piggybackPerMessage, 1)} | ` +
        `${fmt.n(r.loggedPerMessage, 1)} | ${fmt.n(r.checkpoints)} | ${fmt.r(r.wallVsNone)} | ${fmt.r(r.cpuVsNone)} | ${fmt.r(r.wallVsRaw)} | ${fmt.r(r.cpuVsRaw)} | ${fmt.r(r.steadyCpuVsNone)} |`,
    );
  }
  return out.join("\n");
}

export const RECOVERY_HEADER = "| variant | kill → live ms, median [min–max] | replayed | rollbacks | wall s, median [min–max] |";

function recoveryTable(rows: readonly Row[]): string {
  const out = [RECOVERY_HEADER, "|" + " --- |".repeat(5)];
  const ms = (x: Stat | null): string => (x === null ? "-" : `${x.median.toFixed(0)} [${x.min.toFixed(0)}–${x.max.toFixed(0)}]`);
  for (const r of rows) {
    const fail = r.failures > 0 ? ` (${r.failures}/${r.runs} failed)` : "";
    out.push(`| ${r.variant}${fail} | ${ms(r.killToLiveMs)} | ${fmt.n(r.replayed)} | ${fmt.n(r.rollbacks)} | ${fmt.s(r.wallMs)} |`);
  }
  return out.join("\n");
}

/** bench/transport.ts --loopback in its own process: the batched TCP loopback's messages/s, or null if it failed. */
function loopbackRate(quick: boolean): number | null {
  const [cmd, args] = command(["--import", "tsx", join(ROOT, "bench/transport.ts"), "--loopback", ...(quick ? ["--quick"] : [])]);
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  const m = /^loopback msgs\/s (\d+)$/m.exec(r.stdout ?? "");
  return r.status === 0 && m !== null ? Number(m[1]) : null;
}

function machine(): string {
  const l = loadavg();
  return `node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? "?"}), load ${l.map((x) => x.toFixed(1)).join(" ")}`;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        workload: { type: "string" },
        protocol: { type: "string" },
        reps: { type: "string" },
        quick: { type: "boolean", default: false },
        timeout: { type: "string", default: "300000" },
        json: { type: "string" },
        cpus: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    usage((e as Error).message);
  }
  const o = parsed.values;
  if (o.help) {
    const names = Object.values(WORKLOADS).map(({ full }) => `  ${full.name.padEnd(9)} ${full.what}`).join("\n");
    console.log(`${USAGE}\n\nWorkloads (default: all; --quick: small ones, 1 rep):\n${names}\n\nEvery protocol in generated/ by default; \`none\` and the raw node:net program always run beside them (not in recovery).`);
    return;
  }
  const reps = Number(o.reps ?? (o.quick ? "1" : "3"));
  const timeoutMs = Number(o.timeout);
  if (!Number.isInteger(reps) || reps < 1) usage("--reps must be an integer >= 1");
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) usage("--timeout must be an integer >= 1 (ms)");
  if (o.cpus !== undefined) {
    if (!/^\d+([-,]\d+)*$/.test(o.cpus)) usage(`--cpus takes a CPU list as taskset -c does (0, 0-1, 0,2), not "${o.cpus}"`);
    pinTo = o.cpus;
    // The jobs' own command, on an empty script: fails here, once, if taskset cannot apply the list.
    const [cmd, args] = command(["-e", "0"]);
    const probe = spawnSync(cmd, args, { encoding: "utf8" });
    if (probe.error !== undefined || probe.status !== 0) {
      usage(`--cpus ${o.cpus}: cannot run under taskset (${probe.error?.message ?? probe.stderr.trim().split("\n")[0]}); it needs Linux's util-linux and CPUs that exist here (${cpus().length})`);
    }
  }
  const workloads = (list(o.workload) ?? Object.keys(WORKLOADS)).map((n) => {
    const w = WORKLOADS[n];
    if (w === undefined) usage(`unknown workload "${n}" (one of ${Object.keys(WORKLOADS).join(", ")})`);
    return o.quick ? w.quick : w.full;
  });
  const available = readdirSync(join(ROOT, "generated"), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const protocols = list(o.protocol)?.filter((p) => p !== "none") ?? available;
  for (const p of protocols) if (!available.includes(p)) usage(`no protocol "${p}" in generated/`);
  // Loaded after the arguments are checked: it pulls in the compiler (seconds).
  const { builtProtocol } = await import("../test/realproc/lib/protocols.js");
  const variants: Variant[] = [{ name: "none", protocol: "none" }, ...protocols.map((p) => ({ name: p, protocol: builtProtocol(p) })), { name: "raw", protocol: null }];

  console.log(`# bench/job.ts: ${variants.length} variants x ${reps} reps, interleaved`);
  console.log(`# ${machine()}`);
  if (pinTo !== null) console.log(`# every job under taskset -c ${pinTo}`);
  const results: WorkloadResult[] = [];
  for (const w of workloads) {
    const command =
      w.kill === undefined
        ? `egida-run -n ${w.ranks} --protocol P ${w.app} -- ${w.args.join(" ")}  |  node bench/raw/launch.mjs ${w.ranks} ${w.app} ${w.args.join(" ")}`
        : `egida-run -n ${w.ranks} --kill ${w.kill} --protocol P ${w.app} -- ${w.args.join(" ")}`;
    console.log(`\n## ${w.name}: ${w.what}\n# ${command}`);
    // Recovery: `none` and the raw program cannot recover a killed rank.
    const vs = w.kill === undefined ? variants : variants.filter((v) => v.protocol !== null && v.protocol !== "none");
    const runs = new Map<string, Run[]>(vs.map((v) => [v.name, []]));
    const shortRuns = new Map<string, Run[]>(vs.map((v) => [v.name, []]));
    const loopback: number[] = [];
    const report = (rep: number, name: string, r: Run): void => {
      process.stderr.write(
        `  rep ${rep + 1}/${reps} ${name.padEnd(36)} ${r.ok ? `wall ${(r.wallMs / 1000).toFixed(2)} s, cpu ${(r.cpuMs / 1000).toFixed(2)} s, ${r.syncs} fsyncs` : `FAILED: ${r.error}`}\n`,
      );
    };
    for (let rep = 0; rep < reps; rep++) {
      const order = vs.map((_, i) => vs[(i + rep) % vs.length]!);
      for (const v of order) {
        const r = await runOnce(v, w, timeoutMs);
        runs.get(v.name)!.push(r);
        report(rep, v.name, r);
        if (w.short !== undefined) {
          const s = await runOnce(v, { ...w, args: w.short }, timeoutMs);
          shortRuns.get(v.name)!.push(s);
          report(rep, `${v.name} (short)`, s);
        }
      }
      if (w.loopback === true) {
        const rate = loopbackRate(o.quick === true);
        if (rate !== null) loopback.push(rate);
        process.stderr.write(`  rep ${rep + 1}/${reps} ${"batched loopback".padEnd(36)} ${rate === null ? "FAILED" : `${Math.round(rate)} msgs/s`}\n`);
      }
    }
    const base = vs.map((v) => summarize(v.name, runs.get(v.name)!, shortRuns.get(v.name)!));
    const none = base.find((r) => r.variant === "none") ?? null;
    const raw = base.find((r) => r.variant === "raw") ?? null;
    const steadyNone = none?.steadyCpuMs ?? null;
    const rows: Row[] = base.map((r) => ({
      ...r,
      steadyCpuVsNone: r.steadyCpuMs === null || steadyNone === null ? null : r.steadyCpuMs / steadyNone,
      wallVsNone: ratio(r.wallMs, none?.wallMs ?? null),
      cpuVsNone: ratio(r.cpuMs, none?.cpuMs ?? null),
      wallVsRaw: ratio(r.wallMs, raw?.wallMs ?? null),
      cpuVsRaw: ratio(r.cpuMs, raw?.cpuMs ?? null),
    }));
    console.log(w.kill === undefined ? table(rows) : recoveryTable(rows));
    for (const r of rows) for (const e of new Set(r.errors)) console.log(`# ${r.variant} failed: ${e}`);
    const loopbackMedian = stat(loopback)?.median;
    const rateNone = rows.find((r) => r.variant === "none")?.steadyMessagesPerSec ?? null;
    if (loopbackMedian !== undefined) {
      const share = rateNone === null ? "" : `; none after start-up: ${fmt.k(rateNone)} msgs/s = ${((100 * rateNone) / loopbackMedian).toFixed(0)}% of it`;
      console.log(`# batched loopback (bench/transport.ts --loopback, 2 transports in 1 process): ${fmt.k(loopbackMedian)} msgs/s${share}`);
    }
    results.push({ workload: w.name, what: w.what, command, rows, ...(loopbackMedian !== undefined ? { loopbackMessagesPerSec: loopbackMedian } : {}) });
  }
  console.log(`\n# after: ${machine()}`);
  if (o.json !== undefined) writeFileSync(o.json, JSON.stringify({ machine: machine(), reps, ...(pinTo !== null ? { cpus: pinTo } : {}), results }, null, 2) + "\n");
}

await main();
