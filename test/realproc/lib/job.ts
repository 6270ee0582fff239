/**
 * One real-process crash run, judged: build the schedule from the
 * failure-free run, run it under egida-run over TCP, compare with the
 * failure-free outputs, and count kills, recoveries and rollbacks. Shared by
 * test/realproc/*.test.ts and scripts/real-campaign.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { judge, type AppCase } from "./apps.js";
import { ROOT } from "./paths.js";
import { builtProtocol } from "./protocols.js";
import { referenceRun, runEgida, type RunResult } from "./run.js";
import { makeSchedule } from "./schedule.js";

export interface CrashRun {
  readonly protocol: string;
  readonly app: AppCase;
  readonly seed: number;
  readonly size: number;
  readonly kills: readonly string[];
  readonly replayRank: number;
  readonly result: RunResult;
  /** null when the run completed with the failure-free result. */
  readonly violation: string | null;
  /** Kills that fired. */
  readonly fired: number;
  /** True when some kill landed on a restarted incarnation before it went live (during its recovery). */
  readonly killedDuringReplay: boolean;
  /** True when a recovery of the replay rank replayed nothing (a checkpoint covered its kill point), so its second kill may have found nothing to interrupt. */
  readonly nothingToReplay: boolean;
}

/**
 * Which ranks a run may kill, from the generated package: determinants on
 * the replicated log (Fig 4b) → pairwise non-adjacent ranks (f = its default);
 * an event log on stable storage (collect/stable-log, no replicated medium) →
 * any ranks; otherwise (causal logging: tolerates f concurrent failures) → at
 * most f distinct ranks per run.
 */
export function killPolicy(protocol: string): { f: number; maxRanks?: number } {
  const src = readFileSync(join(ROOT, "generated", protocol, "src/index.ts"), "utf8");
  const f = Number(/defaultF: (\d+)/.exec(src)?.[1] ?? "1");
  if (src.includes("volatile-memory-of-processes")) return { f };
  if (src.includes("block collect/stable-log.ts")) return { f: 0 };
  return { f: 0, maxRanks: Math.max(1, f) };
}

export async function crashRun(protocol: string, app: AppCase, seed: number, size = 4, extraKills = 2): Promise<CrashRun> {
  const ref = await referenceRun(app.path, app.args, size);
  const deliveries = ref.summary?.perRankDeliveries ?? [];
  // The failure-free TCP duration is not known here; the sim run's is virtual. Launch (~1-2 s of
  // process start-up) plus the run: aim time kills at 1.5-4 s, which lands inside most runs.
  const sched = makeSchedule({ seed, size, deliveries, runMs: 3500, kills: extraKills, ...killPolicy(protocol) });
  const result = await runEgida({
    size,
    protocol: builtProtocol(protocol),
    app: app.path,
    args: app.args,
    kills: sched.kills,
    timeoutMs: 60_000,
    // Rank processes re-dial with backoff; a short restart keeps runs quick and lets kills overlap.
    restartDelayMs: 50 + (seed % 4) * 50,
  });
  let violation: string | null = null;
  if (result.code !== 0) violation = `exit ${result.code}: ${lastError(result.stderr)}`;
  else violation = judge(app, result.outputs, ref.outputs);
  if (violation === null && result.summary !== null && result.summary.rollbacks > 0) violation = `${result.summary.rollbacks} rollbacks under a pessimistic protocol`;
  // A kill of an incarnation >= 1 before it went live landed during its recovery (restore or replay).
  const inRecovery = result.kills.filter(
    (k) => k.incarnation >= 1 && !result.lives.some((l) => l.rank === k.rank && l.incarnation === k.incarnation && l.line < k.line),
  ).length;
  const killedDuringReplay = inRecovery > 0;
  const nothingToReplay = result.recoveries.some((r) => r.rank === sched.replayRank && r.replayed === 0);
  return { protocol, app, seed, size, kills: sched.kills, replayRank: sched.replayRank, result, violation, fired: result.kills.length, killedDuringReplay, nothingToReplay };
}

function lastError(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => /error|failure|unrecoverable|timeout|retraction/i.test(l));
  return lines.slice(-2).join(" | ") || stderr.split("\n").slice(-3).join(" | ");
}
