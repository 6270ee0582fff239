/**
 * One real-process crash run, judged: build the schedule from the
 * failure-free run, run it under egida-run over TCP, compare with the
 * failure-free outputs, and count kills, recoveries and rollbacks. Shared by
 * test/realproc/*.test.ts and scripts/real-campaign.ts.
 */
import { skipReason } from "../../conformance/campaign.js";
import { judge, type AppCase } from "./apps.js";
import { builtProtocol, killPolicy, type RealProtocol } from "./protocols.js";
import { referenceRun, runEgida, type RunResult } from "./run.js";
import { makeSchedule } from "./schedule.js";

export interface CrashRun {
  readonly protocol: RealProtocol;
  readonly app: AppCase;
  readonly seed: number;
  readonly size: number;
  readonly kills: readonly string[];
  readonly replayRank: number;
  readonly result: RunResult;
  /** null when the run completed with the failure-free result and within its family's rules. */
  readonly violation: string | null;
  /** Kills that fired. */
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

/**
 * One seeded real-process run, judged by the protocol's family:
 *  - every family: `egida-run` exits 0 (a retracted output is a failure of the
 *    job: the sink refuses it) and every rank's committed outputs equal the
 *    failure-free run's;
 *  - pessimistic and causal: no process that had not failed rolls back (the
 *    host saw no app-state reset of a live process, LIVE_RESET) and the
 *    protocol traced no rollback;
 *  - checkpoint-only and optimistic: survivors may roll back (counted, not
 *    judged: the outputs and the no-retraction rule are the guarantee).
 */
export async function crashRun(protocol: RealProtocol, app: AppCase, seed: number, size = 4, extraKills = 2): Promise<CrashRun> {
  const ref = await referenceRun(app.path, app.args, size);
  // Count kills aim within what every run delivers, so each one fires (the test asserts it).
  const deliveries = (ref.summary?.perRankDeliveries ?? []).map((d, r) => Math.min(d, app.minDeliveries?.(r) ?? d));
  // The failure-free TCP duration is not known here; the sim run's is virtual. Launch (~1-2 s of
  // process start-up) plus the run: aim time kills at 1.5-4 s, which lands inside most runs.
  const sched = makeSchedule({ seed, size, deliveries, runMs: 3500, kills: extraKills, ...killPolicy(protocol) });
  const result = await runEgida({
    size,
    protocol: builtProtocol(protocol.name),
    app: app.path,
    args: app.args,
    kills: sched.kills,
    // Wall-clock budget, not a hang detector: at load 20-34 (the kills slice runs 5 jobs at
    // once beside other test files) rank start-up alone took 7-34 s and each restart several,
    // so Fig 3a / writer (5 kills, 5 restarts) ran 35-100 s and once hit 60 s while every rank
    // was still logging deliveries (docs/campaign-real.md).
    timeoutMs: 180_000,
    // Rank processes re-dial with backoff; a short restart keeps runs quick and lets kills overlap.
    restartDelayMs: 50 + (seed % 4) * 50,
  });
  let violation: string | null = null;
  if (result.code !== 0) violation = `exit ${result.code}: ${lastError(result.stderr)}`;
  else violation = judge(app, result.outputs, ref.outputs) ?? familyRule(protocol, result);
  // A kill of an incarnation >= 1 before it went live landed during its recovery (restore or replay).
  const inRecovery = result.kills.filter(
    (k) => k.incarnation >= 1 && !result.lives.some((l) => l.rank === k.rank && l.incarnation === k.incarnation && l.line < k.line),
  ).length;
  const killedDuringReplay = inRecovery > 0;
  const nothingToReplay = result.recoveries.some((r) => r.rank === sched.replayRank && r.replayed === 0);
  const survivorRollbacks = result.liveResets.length;
  return { protocol, app, seed, size, kills: sched.kills, replayRank: sched.replayRank, result, violation, fired: result.kills.length, killedDuringReplay, nothingToReplay, survivorRollbacks };
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
