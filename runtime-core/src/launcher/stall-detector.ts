/**
 * The launcher's stall detector, shared by the TCP job (wall clock) and the
 * simulation (virtual clock).
 *
 * Rule: the job makes progress while some rank delivers, sends or outputs
 * something, changes phase (goes live, finishes recovering, is done, dies or
 * restarts), or computes (uses at least BUSY_CPU_SHARE of a core over a
 * sample: a rank crunching for minutes between messages is working, not
 * stalled). A job with no progress for the window fails with a diagnosis of
 * what every rank is doing: its phase and for how long, its last delivery,
 * the protocol's last note while it recovers, and whether its process is
 * stopped (SIGSTOP) or silent. Protocol timers (flushes, checkpoints,
 * heartbeats) are not progress: they run in a hung job too, and use far less
 * CPU than the threshold. On Linux a rank process found runnable (state R) is
 * progress as well: on a loaded machine it gets less than the threshold.
 */
import { DEFAULT_STALL_AFTER_STATE_LOSS_MS, DEFAULT_STALL_MS } from "./options.js";
import { isStoppedState, readProcStat } from "./proc-stat.js";

/**
 * The window in force: `--stall-timeout` if given (0 disables), else
 * DEFAULT_STALL_MS, shortened to DEFAULT_STALL_AFTER_STATE_LOSS_MS once a
 * rank lost its state (survivors then usually wait for messages that state
 * would have sent).
 */
export function stallWindow(explicitMs: number | undefined, stateLost: boolean): number | undefined {
  if (explicitMs !== undefined) return explicitMs > 0 ? explicitMs : undefined;
  return stateLost ? DEFAULT_STALL_AFTER_STATE_LOSS_MS : DEFAULT_STALL_MS;
}
/** A rank using at least this share of one core over a sample is computing. */
export const BUSY_CPU_SHARE = 0.1;
/** Ranks report at least this often (rank-main.ts), whatever happens. */
export const HEARTBEAT_MS = 500;
/** A rank that sent no report for this long does not run its event loop (computing synchronously, or stopped). */
const SILENT_MS = 4 * HEARTBEAT_MS;
/** Longest protocol note quoted in a diagnosis. */
const NOTE_MAX = 160;

/** What a rank is doing, as its process (or the simulation) sees it. */
export type RankPhase =
  /** Incarnation 0 before protocol.start() resolved. */
  | "starting"
  /** A restarted incarnation before protocol.start() resolved (restore, gather, replay). */
  | "recovering"
  /** Live, the app has not called done(). */
  | "running"
  /** The app called done(). */
  | "done"
  /** Every rank was done; Protocol.finish is running. */
  | "finishing"
  | "finished"
  /** Dead: the watchdog restarts it. */
  | "restarting";

export interface RankActivity {
  readonly incarnation: number;
  readonly phase: RankPhase;
  /** Counters of this incarnation: a change in any is progress. */
  readonly deliveries: number;
  readonly sends: number;
  readonly outputs: number;
  /** The protocol's latest note (trace text), which says where a recovery is. */
  readonly note?: string;
}

interface RankView {
  act: RankActivity | null;
  phaseSince: number;
  /** Last change of the counters (or start of the incarnation). */
  lastWork: number;
  lastDelivery: number | null;
  lastReport: number;
  /** Kernel run state from /proc, when the launcher can read it. */
  procState: string | null;
}

export interface StallDetectorOptions {
  readonly size: number;
  readonly now: number;
  /** "s" over TCP, "virtual s" in the simulation. */
  readonly unit: string;
  /** The ranks report over IPC (TCP): a rank silent for long is named. */
  readonly reports: boolean;
}

export class StallDetector {
  private lastProgress: number;
  private readonly views: RankView[];

  constructor(private readonly o: StallDetectorOptions) {
    this.lastProgress = o.now;
    this.views = Array.from({ length: o.size }, () => ({
      act: null,
      phaseSince: o.now,
      lastWork: o.now,
      lastDelivery: null,
      lastReport: o.now,
      procState: null,
    }));
  }

  /** Something happened in the job (an output, a restart, a rank going live). */
  progress(now: number): void {
    if (now > this.lastProgress) this.lastProgress = now;
  }

  /** What rank `r` is doing now; any change of phase, incarnation or counter is progress. */
  observe(r: number, act: RankActivity, now: number): void {
    const v = this.views[r]!;
    const prev = v.act;
    v.lastReport = now;
    v.act = act;
    if (prev === null || prev.incarnation !== act.incarnation || prev.phase !== act.phase) {
      v.phaseSince = now;
      this.progress(now);
    }
    if (prev === null || prev.incarnation !== act.incarnation) {
      v.lastWork = now;
      v.lastDelivery = act.deliveries > 0 ? now : null;
    }
    if (prev !== null && prev.incarnation === act.incarnation) {
      if (act.deliveries !== prev.deliveries) v.lastDelivery = now;
      if (act.deliveries !== prev.deliveries || act.sends !== prev.sends || act.outputs !== prev.outputs) {
        v.lastWork = now;
        this.progress(now);
      }
    }
  }

  /** A process for rank `r` was started as `incarnation`: starting (0) or recovering. */
  spawned(r: number, incarnation: number, now: number): void {
    this.observe(r, { incarnation, phase: incarnation > 0 ? "recovering" : "starting", deliveries: 0, sends: 0, outputs: 0 }, now);
  }

  /** Rank `r`'s process died unasked; the watchdog restarts it. */
  died(r: number, incarnation: number, now: number): void {
    this.observe(r, { incarnation, phase: "restarting", deliveries: 0, sends: 0, outputs: 0 }, now);
  }

  /** Rank `r` used `cpuMs` of CPU over `wallMs`: computing at BUSY_CPU_SHARE of a core or more is progress. */
  cpu(r: number, cpuMs: number, wallMs: number, now: number): void {
    if (r < 0 || r >= this.o.size) return;
    if (wallMs > 0 && cpuMs >= BUSY_CPU_SHARE * wallMs) this.progress(now);
  }

  /** The kernel's run state of rank `r`'s process (null: unknown or no process). */
  procState(r: number, state: string | null, now?: number): void {
    this.views[r]!.procState = state;
    // Runnable (R): it is computing or waiting for a core. On a loaded machine such a process gets
    // less than BUSY_CPU_SHARE of a core, yet it is not stalled; a hung job's processes sleep (S).
    if (state === "R" && now !== undefined) this.progress(now);
  }

  /** Time without progress; `since` is another progress clock of the caller (e.g. JobState.lastProgress). */
  stalledFor(now: number, since = -Infinity): number {
    return now - Math.max(this.lastProgress, since);
  }

  /**
   * The failure message if the job made no progress for more than `windowMs`
   * (undefined or 0: never), else null.
   */
  check(now: number, windowMs: number | undefined, since?: number): string | null {
    if (windowMs === undefined || windowMs <= 0) return null;
    const idle = this.stalledFor(now, since);
    if (idle <= windowMs) return null;
    const what = this.o.reports ? "no rank delivered, sent or output anything or used CPU" : "no rank delivered, sent or output anything";
    return `stalled: no progress for ${this.fmt(idle)} (${what}; --stall-timeout ${windowMs} ms); ${this.describeRanks(now)}`;
  }

  /** One clause per rank: what it is doing and since when. */
  describeRanks(now: number): string {
    return this.views.map((v, r) => this.describeRank(r, v, now)).join("; ");
  }

  private describeRank(r: number, v: RankView, now: number): string {
    const a = v.act;
    const who = a ? `rank ${r} (incarnation ${a.incarnation})` : `rank ${r}`;
    const silentFor = now - v.lastReport;
    if (v.procState !== null && isStoppedState(v.procState)) {
      return `${who} stopped (process state ${v.procState}, e.g. SIGSTOP: no CPU, no report for ${this.fmt(silentFor)}${a ? `; last seen ${a.phase}` : ""})`;
    }
    if (this.o.reports && silentFor > SILENT_MS && a?.phase !== "restarting") {
      const state = v.procState === null ? "process state unknown" : `process state ${v.procState}`;
      return `${who} not responding (no report for ${this.fmt(silentFor)}, ${state}: its event loop is blocked${a ? `; last seen ${a.phase}` : ""})`;
    }
    if (a === null) return `${who} not started`;
    const inPhase = this.fmt(now - v.phaseSince);
    switch (a.phase) {
      case "starting":
      case "recovering": {
        const replayed = a.deliveries > 0 ? `, ${plural(a.deliveries, "delivery", "deliveries")} replayed, last ${this.ago(v.lastDelivery, now)}` : ", no delivery yet";
        const note = a.note === undefined ? "the protocol reported no step yet" : `last protocol note: "${clip(a.note)}"`;
        return `${who} ${a.phase} for ${inPhase}${replayed}; ${note}`;
      }
      case "running": {
        const delivered = a.deliveries > 0 ? `${plural(a.deliveries, "delivery", "deliveries")}, last ${this.ago(v.lastDelivery, now)}` : "no delivery yet";
        return `${who} running, not done: idle (${delivered}; ${plural(a.sends, "send", "sends")}, ${plural(a.outputs, "output", "outputs")})`;
      }
      case "done":
        return `${who} done (app called done ${inPhase} ago)`;
      case "finishing":
        return `${who} finishing for ${inPhase} (Protocol.finish pending)`;
      case "finished":
        return `${who} finished`;
      case "restarting":
        return `${who} dead for ${inPhase}, restart pending`;
    }
  }

  private ago(at: number | null, now: number): string {
    return at === null ? "unknown" : `${this.fmt(now - at)} ago`;
  }

  private fmt(ms: number): string {
    return `${(ms / 1000).toFixed(1)} ${this.o.unit}`;
  }
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function clip(s: string): string {
  return s.length > NOTE_MAX ? `${s.slice(0, NOTE_MAX - 3)}...` : s;
}

/**
 * Samples the rank processes' CPU and run state from outside (Linux /proc):
 * a rank in a long synchronous computation sends no report (its event loop
 * is blocked) but burns CPU; a stopped one does neither.
 */
export class ProcessWatch {
  private readonly last: ({ pid: number; cpuMs: number; at: number } | null)[];
  private sampledAt = -Infinity;

  constructor(
    private readonly detector: StallDetector,
    size: number,
  ) {
    this.last = new Array<{ pid: number; cpuMs: number; at: number } | null>(size).fill(null);
  }

  /** Sample every rank's process (pid per rank, undefined: none now), at most once per HEARTBEAT_MS. */
  sampleAll(pids: readonly (number | undefined)[], now: number): void {
    if (now - this.sampledAt < HEARTBEAT_MS) return;
    this.sampledAt = now;
    pids.forEach((pid, r) => this.sample(r, pid, now));
  }

  sample(r: number, pid: number | undefined, now: number): void {
    const s = pid === undefined ? null : readProcStat(pid);
    this.detector.procState(r, s?.state ?? null, now);
    const prev = this.last[r] ?? null;
    if (s === null || pid === undefined) {
      this.last[r] = null;
      return;
    }
    if (prev !== null && prev.pid === pid) this.detector.cpu(r, s.cpuMs - prev.cpuMs, now - prev.at, now);
    this.last[r] = { pid, cpuMs: s.cpuMs, at: now };
  }
}
