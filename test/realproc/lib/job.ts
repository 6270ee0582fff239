/**
 * One real-process crash run, judged: build the schedule from the
 * failure-free run, run it under egida-run over TCP, compare with the
 * failure-free outputs, and count kills, recoveries and rollbacks. Shared by
 * test/realproc/*.test.ts and scripts/real-campaign.ts.
 */
import { skipReason } from "../../conformance/campaign.js";
import { judge, type AppCase } from "./apps.js";
import { killPolicy, protocolDir, type RealProtocol } from "./protocols.js";
import { referenceRun, runEgida, type RunResult } from "./run.js";
import { beyondSchedule, makeSchedule } from "./schedule.js";

export interface CrashRun {
  readonly protocol: RealProtocol;
  readonly app: AppCase;
  readonly seed: number;
  readonly size: number;
  readonly kind: RunKind;
  readonly kills: readonly string[];
  readonly replayRank: number;
  readonly result: RunResult;
  /** null when the run completed with the failure-free result and within its family's rules. */
  readonly violation: string | null;
  /** The job outlived its liveness bound, or egida-run's stall detector ended it (exit 5). */
  readonly stalled: boolean;
  /** The job ended with exit 3 "unrecoverable" (accepted beyond the tolerance only). */
  readonly unrecoverable: boolean;
  /** Kills that fired (the launcher's and the external ones). */
  readonly fired: number;
  /** True when some kill landed on a restarted incarnation before it went live (during its recovery). */
  readonly killedDuringReplay: boolean;
  /** True when a recovery of the replay rank replayed nothing (a checkpoint covered its kill point), so its second kill may have found nothing to interrupt. */
  readonly nothingToReplay: boolean;
  /** Rollbacks of processes that had not failed (allowed for checkpoint-only and optimistic protocols only). */
  readonly survivorRollbacks: number;
}

/**
 * Null when the protocol does not claim to run this app (the conformance
 * campaign's rule, so both campaigns skip the same pairs: optimistic logging
 * does not log `ctx.read`), else why.
 */
export function skipFor(p: RealProtocol, app: AppCase): string | null {
  return skipReason(p, app);
}

/** What kind of run: within the protocol's tolerance (the default), or beyond it (f + 1 ranks at once). */
export type RunKind = "within" | "beyond";

/** Can this protocol be pushed beyond its tolerance (causal logging's f, a replicated log's f)? Stable storage has none. */
export function hasFiniteTolerance(p: RealProtocol): boolean {
  return p.replicatedLog || p.family === "causal";
}

/**
 * Liveness as an oracle: a run must end within a bound derived from the
 * failure-free TCP run of the app (wall ms): start-up and each kill's restart
 * and recovery may each cost a few failure-free lengths and some seconds of
 * process start-up on a loaded machine. Past it, the run is "stalled".
 */
export function realLivenessBoundMs(freeMs: number, kills: number): number {
  return Math.ceil(30_000 + (1 + kills) * (4 * freeMs + 5_000));
}

/**
 * One seeded real-process run, judged by the protocol's family:
 *  - every family: `egida-run` exits 0 (a retracted output is a failure of the
 *    job: the sink refuses it) and every rank's committed outputs equal the
 *    failure-free run's;
 *  - pessimistic and causal: no process that had not failed rolls back (the
 *    host saw no app-state reset of a live process, LIVE_RESET) and the
 *    protocol traced no rollback;
 *  - checkpoint-only and optimistic: survivors may roll back (counted, not
 *    judged: the outputs and the no-retraction rule are the guarantee);
 *  - beyond the tolerance: exit 3 "unrecoverable", or the failure-free result;
 *  - always: the job ends within its liveness bound, else it is "stalled"
 *    (egida-run's own stall detector, exit 5, counts as a stall too).
 */
export async function crashRun(protocol: RealProtocol, app: AppCase, seed: number, size = 4, extraKills = 2, kind: RunKind = "within"): Promise<CrashRun> {
  const ref = await referenceRun(app.path, app.args, size);
  const freeMs = await tcpReferenceMs(app.path, app.args, size);
  // Count kills aim within what every run delivers, so each one fires (the test asserts it).
  const deliveries = (ref.summary?.perRankDeliveries ?? []).map((d, r) => Math.min(d, app.minDeliveries?.(r) ?? d));
  // Time kills aim inside the run: the failure-free TCP length (which includes process start-up).
  const input = { seed, size, deliveries, runMs: freeMs, kills: extraKills, ...killPolicy(protocol) };
  const sched = kind === "beyond" ? beyondSchedule({ ...input, tolerance: Math.max(1, protocol.f) }) : makeSchedule(input);
  const planned = sched.kills.length + sched.external.reduce((n, k) => n + k.ranks.length, 0);
  const boundMs = realLivenessBoundMs(freeMs, planned);
  const result = await runEgida({
    size,
    protocol: protocolDir(protocol),
    app: app.path,
    args: app.args,
    kills: sched.kills,
    externalKills: sched.external,
    timeoutMs: boundMs,
    // Rank processes re-dial with backoff; a short restart keeps runs quick and lets kills overlap.
    restartDelayMs: 50 + (seed % 4) * 50,
  });
  let violation: string | null = null;
  const stalled = result.code === 5;
  if (kind === "beyond") {
    if (result.code === 3) violation = null;
    else if (result.code === 0) violation = judge(app, result.outputs, ref.outputs) ?? familyRule(protocol, result);
    else violation = `beyond tolerance: expected exit 3 (unrecoverable) or the failure-free result, got exit ${result.code}: ${lastError(result.stderr)}`;
  } else if (result.code !== 0) violation = `exit ${result.code}: ${lastError(result.stderr)}`;
  else violation = judge(app, result.outputs, ref.outputs) ?? familyRule(protocol, result);
  if (stalled) violation = `stalled (liveness bound ${boundMs} ms, failure-free ${Math.round(freeMs)} ms): ${violation ?? ""}`;
  // A kill of an incarnation >= 1 before it went live landed during its recovery (restore or replay).
  const inRecovery = result.kills.filter(
    (k) => k.incarnation >= 1 && !result.lives.some((l) => l.rank === k.rank && l.incarnation === k.incarnation && l.line < k.line),
  ).length;
  const killedDuringReplay = inRecovery > 0;
  const nothingToReplay = result.recoveries.some((r) => r.rank === sched.replayRank && r.replayed === 0);
  const survivorRollbacks = result.liveResets.length;
  return {
    protocol,
    app,
    seed,
    size,
    kind,
    kills: [...sched.kills, ...sched.external.map((k) => `${k.ranks.join("+")}@${k.atMs}ms (kill -9 from outside)`)],
    replayRank: sched.replayRank,
    result,
    violation,
    stalled,
    unrecoverable: result.code === 3,
    fired: result.kills.length + result.externalFired.length,
    killedDuringReplay,
    nothingToReplay,
    survivorRollbacks,
  };
}

const tcpRefs = new Map<string, Promise<number>>();

/** Wall ms of a failure-free run of the app over TCP under `none`, cached per (app, args, size). */
export function tcpReferenceMs(app: string, args: readonly string[], size: number): Promise<number> {
  const key = JSON.stringify([app, args, size]);
  let p = tcpRefs.get(key);
  if (p === undefined) {
    p = runEgida({ size, protocol: "none", app, args, timeoutMs: 120_000 }).then((r) => {
      if (r.code !== 0) throw new Error(`failure-free TCP reference run failed (exit ${r.code}): ${r.command}\n${r.stderr}`);
      return r.ms;
    });
    tcpRefs.set(key, p);
  }
  return p;
}

export function familyRule(p: RealProtocol, r: RunResult): string | null {
  if (p.family !== "pessimistic" && p.family !== "causal") return null;
  const live = r.liveResets[0];
  if (live !== undefined) return `${p.family}: rank ${live.rank} had not failed, yet its app state was reset (${live.how})`;
  const rb = r.rollbacks[0];
  if (rb !== undefined) return `${p.family}: rank ${rb.rank} rolled back: ${rb.reason}`;
  return null;
}

function lastError(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => /error|failure|unrecoverable|timeout|retraction/i.test(l));
  return lines.slice(-2).join(" | ") || stderr.split("\n").slice(-3).join(" | ");
}
