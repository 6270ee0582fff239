/**
 * The campaign: seeds × protocols × apps, each seed drawing one schedule of a
 * kind (single crash, crash during recovery, same rank repeatedly, f
 * concurrent, f+1 concurrent, near checkpoint / flush / output commit, crash
 * of a rank holding others' messages), every run checked by every oracle.
 * Failing runs are shrunk and come with the one command that reproduces them.
 */
import { traceHeader } from "../../runtime-core/src/trace/job-trace.js";
import { wallMs, type TraceRecord } from "../../runtime-core/src/trace/records.js";
import { JsonlFile } from "../../runtime-core/src/trace/writer.js";
import type { App, ProtocolFactory } from "../../runtime-core/src/spi.js";
import { noneProtocol } from "../../runtime-core/src/protocols/none.js";
import { type ConformanceApp, loadConformanceApp } from "./apps.js";
import { runSimJob, type JobResult } from "./harness.js";
import { checkRun, type Violation } from "./oracles.js";
import type { ProtocolEntry } from "./protocols.js";
import { drawSchedule, formatSchedule, SCHEDULE_KINDS, type CrashSchedule, type DrawContext, type ScheduleKind } from "./schedule.js";
import { shrinkSchedule } from "./shrink.js";

export interface CaseOutcome {
  readonly protocol: string;
  readonly backend: string;
  readonly app: string;
  readonly seed: number;
  readonly kind: ScheduleKind | "given";
  readonly schedule: CrashSchedule;
  readonly result: JobResult;
  readonly violations: readonly Violation[];
  /** For failures: the shrunk schedule and the command that reproduces it. */
  readonly shrunk?: CrashSchedule;
  readonly repro?: string;
}

export interface Tally {
  runs: number;
  crashes: number;
  recoveries: number;
  rollbacks: number;
  violations: number;
  /** Runs that ended in a clear `unrecoverable:` (allowed only beyond f). */
  unrecoverable: number;
  /** Control frames sent (JobCounts.control), to compare protocols' traffic on the same schedules. */
  control: number;
  /** Runs that did not finish within the liveness bound, or went idle unfinished (each is also a violation). */
  stalls: number;
}

/** What the campaign caches per protocol and app: failure-free references. */
export class CampaignContext {
  private readonly refs = new Map<string, Promise<JobResult>>();
  private readonly draws = new Map<string, Promise<DrawContext>>();

  /** A failure-free run of the app under `none` (the reference for order-deterministic apps). */
  reference(a: ConformanceApp, app: App<unknown>): Promise<JobResult> {
    let p = this.refs.get(a.name);
    if (!p) this.refs.set(a.name, (p = runSimJob({ protocol: noneProtocol, app, size: a.size, seed: 1, schedule: [], args: a.args })));
    return p;
  }

  /** Steps and deliveries of a failure-free run of this protocol and app, to place crashes in. */
  drawContext(e: ProtocolEntry, factory: ProtocolFactory, a: ConformanceApp, app: App<unknown>, wire: "frames" | "tcp" = "frames"): Promise<DrawContext> {
    const key = `${e.name}/${e.backend}/${a.name}/${wire}`;
    let p = this.draws.get(key);
    if (!p) {
      p = runSimJob({ protocol: factory, app, size: a.size, seed: 1, schedule: [], args: a.args, wire }).then((r) => {
        // Only the part before everyone is done: crashes in the drain are not injected.
        const deliveries = Math.max(1, Math.round(r.histories.reduce((n, h) => n + h.deliveryCount, 0) / a.size));
        const doneStep = Math.max(10, r.finishedAtStep ?? r.steps);
        return { size: a.size, f: factory.defaultF, steps: doneStep, deliveries, freeMs: r.virtualMs };
      });
      this.draws.set(key, p);
    }
    return p;
  }
}

/**
 * Liveness as an oracle: a run must finish within a bound derived from its
 * failure-free length, or it is "stalled". Each crash may cost its restart
 * delay, a recovery, and (rolling back to the start) a whole re-execution, so
 * the bound is 2 x (1 + crashes) failure-free lengths plus the restart delays
 * (the harness's default is at most 12 ms) and 250 virtual ms per crash.
 */
export function livenessBoundMs(freeMs: number, schedule: CrashSchedule): number {
  const crashes = schedule.length;
  const restarts = schedule.reduce((n, c) => n + (c.restartAfterMs ?? 12), 0);
  return Math.ceil(2 * (1 + crashes) * Math.max(freeMs, 20) + restarts + 250 * crashes + 100);
}

export function reproCommand(
  e: Pick<ProtocolEntry, "name" | "backend" | "plugin">,
  app: string,
  seed: number,
  schedule: CrashSchedule,
  realReplication = false,
  wire: "frames" | "tcp" = "frames",
): string {
  const backend = e.backend === "builtin" ? "" : ` --backend ${e.backend}`;
  // A plugin's protocol is the one its directory's spec compiles to: --plugin alone selects it.
  const which = e.plugin === undefined ? `--protocol ${e.name}` : `--plugin ${e.plugin}`;
  return `npm run campaign -- ${which}${backend}${realReplication ? " --real-replication" : ""}${wire === "tcp" ? " --wire tcp" : ""} --app ${app} --seed ${seed} --schedule '${formatSchedule(schedule)}' --trace run.jsonl`;
}

export interface RunCaseOptions {
  /** Shrink failing schedules (default true). */
  readonly shrink?: boolean;
  readonly boundedStorage?: boolean;
  /** `volatile memory of processes` on runtime-core's real replication (SimJobParams.realReplication). */
  readonly realReplication?: boolean;
  /** Write the run trace of the schedule as given (not of the shrinking runs) to this file (docs/trace.md). */
  readonly trace?: string;
  /** SimJobParams.wire: "tcp" runs the real TcpTransport over simulated sockets (default "frames"). */
  readonly wire?: "frames" | "tcp";
  /** SimJobParams.resetsAtMs (wire "tcp"). */
  readonly resetsAtMs?: readonly number[];
  /** SimJobParams.crashTail. */
  readonly crashTail?: { readonly cut: number; readonly corrupt: number };
}

/** Run one schedule and check it; on violations, shrink and attach the repro command. */
export async function runCase(
  ctx: CampaignContext,
  e: ProtocolEntry,
  factory: ProtocolFactory,
  a: ConformanceApp,
  seed: number,
  kind: ScheduleKind | "given",
  schedule: CrashSchedule,
  o: RunCaseOptions = {},
): Promise<CaseOutcome> {
  const app = await loadConformanceApp(a);
  const reference = await ctx.reference(a, app);
  const draw = await ctx.drawContext(e, factory, a, app, o.wire);
  const check = async (s: CrashSchedule, traceFile?: string): Promise<{ result: JobResult; violations: Violation[] }> => {
    const maxTimeMs = livenessBoundMs(draw.freeMs, s);
    const out = traceFile === undefined ? null : new JsonlFile(traceFile, "w");
    out?.line({ ...traceHeader({ mode: "sim", size: a.size, protocol: e.name, app: a.name, kills: s.map((c) => ({ text: JSON.stringify(c) })), seed }) });
    const result = await runSimJob({
      protocol: factory,
      app,
      size: a.size,
      seed,
      schedule: s,
      args: a.args,
      realReplication: o.realReplication ?? false,
      maxTimeMs,
      ...(o.wire === undefined ? {} : { wire: o.wire }),
      ...(o.resetsAtMs === undefined ? {} : { resetsAtMs: o.resetsAtMs }),
      ...(o.crashTail === undefined ? {} : { crashTail: o.crashTail }),
      ...(out ? { runTrace: (r: TraceRecord) => out.line(r) } : {}),
    });
    const violations = await checkRun(result, {
      app,
      args: a.args,
      orderDeterministic: a.orderDeterministic,
      family: e.family,
      reference,
      boundedStorage: o.boundedStorage ?? false,
    });
    if (out) {
      out.line({ ts: wallMs(), rank: -1, inc: 0, ev: "end", ok: violations.length === 0, exitCode: violations.length === 0 ? 0 : 1 });
      out.close();
    }
    return { result, violations };
  };
  const { result, violations } = await check(schedule, o.trace);
  const base = { protocol: e.name, backend: e.backend, app: a.name, seed, kind, schedule, result, violations };
  if (violations.length === 0) return base;
  let shrunk = schedule;
  if (o.shrink ?? true) shrunk = (await shrinkSchedule(schedule, async (s) => (await check(s)).violations.length > 0)).schedule;
  return { ...base, shrunk, repro: reproCommand(e, a.name, seed, shrunk, o.realReplication ?? false, o.wire ?? "frames") };
}

/**
 * Why the campaign does not run app `a` under protocol `e`, or null if it does.
 * Every protocol the block library builds now replays `ctx.read` values
 * (optimistic logging logs them in its asynchronous log since Fig 3a learnt
 * reads), so no pair is skipped; the hook stays for a protocol that cannot
 * run some app, which must say why here rather than fail the campaign.
 */
export function skipReason(_e: Pick<ProtocolEntry, "family">, _a: Pick<ConformanceApp, "reads">): string | null {
  return null;
}

/** The schedule kind for the i-th seed: round-robin, so every kind gets its share. */
export function kindFor(i: number, kinds: readonly ScheduleKind[] = SCHEDULE_KINDS): ScheduleKind {
  return kinds[i % kinds.length]!;
}

/** Draw the schedule for one campaign run. */
export async function scheduleFor(
  ctx: CampaignContext,
  e: ProtocolEntry,
  factory: ProtocolFactory,
  a: ConformanceApp,
  seed: number,
  kind: ScheduleKind,
  wire: "frames" | "tcp" = "frames",
): Promise<CrashSchedule> {
  const app = await loadConformanceApp(a);
  return drawSchedule(kind, seed, await ctx.drawContext(e, factory, a, app, wire));
}

export function emptyTally(): Tally {
  return { runs: 0, crashes: 0, recoveries: 0, rollbacks: 0, violations: 0, unrecoverable: 0, control: 0, stalls: 0 };
}

export function addToTally(t: Tally, c: CaseOutcome): void {
  t.runs++;
  t.crashes += c.result.counts.crashes;
  t.recoveries += c.result.counts.recoveries;
  t.rollbacks += c.result.counts.rollbacks;
  t.control += c.result.counts.control;
  t.violations += c.violations.length > 0 ? 1 : 0;
  if (c.result.unrecoverable !== null) t.unrecoverable++;
  if (c.result.hang !== null) t.stalls++;
}

/** A failing case, for a terminal: what failed, the shrunk schedule, and the command. */
export function describeCase(c: CaseOutcome): string {
  const lines = [
    `FAIL ${c.protocol} (${c.backend}) × ${c.app}, seed ${c.seed}, ${c.kind} schedule ${formatSchedule(c.schedule)}`,
    ...c.violations.slice(0, 6).map((v) => `  [${v.oracle}] ${v.message}`),
  ];
  if (c.violations.length > 6) lines.push(`  ... and ${c.violations.length - 6} more`);
  if (c.shrunk) lines.push(`  shrunk to ${formatSchedule(c.shrunk)}`);
  if (c.repro) lines.push(`  reproduce: ${c.repro}`);
  return lines.join("\n");
}
