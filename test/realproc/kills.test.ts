/**
 * Real processes (issue 5 §5): every crash-proven generated protocol runs the
 * sample apps under `egida-run` over TCP with SIGKILLs, judged by its
 * family's rules (lib/job.ts): the committed outputs equal the failure-free
 * run's, nothing is retracted, and under pessimistic and causal logging no
 * process that had not failed rolls back. Each run has:
 *  - random ranks at random delivery counts, several kills per run;
 *  - the same rank twice, the second kill during its recovery (counts include
 *    replayed deliveries);
 *  - a time kill (SIGKILL from the launcher) at a random moment;
 *  - which ranks may be down together follows the family (lib/protocols.ts
 *    killPolicy: causal logging at most f, Fig 4b non-adjacent, else any).
 * A bounded slice for `npm test`: one run per protocol; the first protocol of
 * each family runs the write-heavy writer app (an output per step), the others
 * rotate through the other apps, so every family and every app is covered.
 * EGIDA_REALPROC_FULL=1 runs every app for every protocol. The long campaign
 * is scripts/real-campaign.ts.
 */
import { describe, expect, it } from "vitest";
import { APPS, appCase, judge, type AppCase } from "./lib/apps.js";
import { crashRun, familyRule, skipFor } from "./lib/job.js";
import { builtProtocol, realProtocols, type RealProtocol } from "./lib/protocols.js";
import { referenceRun, runEgida } from "./lib/run.js";

/**
 * Crash-proven in the simulation, but with an open real-process finding: kept
 * out of this slice (not out of scripts/real-campaign.ts) until it is
 * understood, so CI stays a signal. Its family stays covered by the others.
 * Empty: family-based-causal's hang was a causal control frame deferred
 * forever by a rank still opening its storage, fixed in the causal blocks
 * (docs/campaign-real.md).
 */
const OPEN: Readonly<Record<string, string>> = {};

/**
 * Crash-proven, and proven on real processes by scripts/real-campaign.ts
 * (numbers in docs/protocols.md), but left out of this slice for its
 * wall-time budget: their families are covered by the others here, and
 * their storage by test/protocols/diskless.test.ts and the campaign slice.
 */
const CAMPAIGN_ONLY: Readonly<Record<string, string>> = {
  "pessimistic-diskless": "the receiver-based log and checkpoints in peers' memory (docs/protocols.md, \"Diskless checkpoints\")",
  "coordinated-diskless": "co-ordinated checkpoints in peers' memory (same section)",
  "causal-diskless": "family-based causal logging (f = 2) with checkpoints in peers' memory (same section)",
};

const PROTOCOLS = await realProtocols();
const OTHERS = APPS.filter((a) => a.name !== "writer");

function slice(): { protocol: RealProtocol; app: AppCase }[] {
  const out: { protocol: RealProtocol; app: AppCase }[] = [];
  const families = new Set<string>();
  let k = 0;
  for (const protocol of PROTOCOLS.filter((p) => OPEN[p.name] === undefined && CAMPAIGN_ONLY[p.name] === undefined)) {
    const allowed = (a: AppCase): boolean => skipFor(protocol, a) === null;
    if (process.env["EGIDA_REALPROC_FULL"] === "1") {
      for (const app of APPS.filter(allowed)) out.push({ protocol, app });
      continue;
    }
    let app = appCase("writer");
    if (families.has(protocol.family)) {
      const choices = OTHERS.filter(allowed);
      app = choices[k++ % choices.length]!;
    }
    families.add(protocol.family);
    out.push({ protocol, app });
  }
  return out;
}

describe("real processes over TCP with SIGKILLs", () => {
  it("runs every family of the crash-proven protocols", () => {
    expect(new Set(PROTOCOLS.map((p) => p.family))).toEqual(new Set(["pessimistic", "causal", "optimistic", "checkpoint-only"]));
    expect(new Set(slice().map((c) => c.protocol.family)).size).toBe(4);
  });

  slice().forEach(({ protocol, app }, i) => {
    it.concurrent(`${protocol.name} (${protocol.family}) / ${app.name}: several kills incl. the same rank twice (once during recovery) match the failure-free run`, async () => {
      const seed = 11 + i * 7 + app.name.length;
      const run = await crashRun(protocol, app, seed);
      const why = `${run.violation ?? ""}\nkills ${run.kills.join(" ")}\n${run.result.command}\n${run.result.stderr.split("\n").slice(-25).join("\n")}`;
      expect(run.violation, why).toBeNull();
      // Count kills are exact and always reached (counts include re-executed deliveries): every one fires.
      const countKills = run.kills.filter((k) => k.endsWith("msgs")).length;
      expect(countKills, why).toBeGreaterThanOrEqual(2);
      expect(run.result.kills.filter((k) => k.atDelivery !== undefined).length, why).toBe(countKills);
      if (protocol.family === "pessimistic" || protocol.family === "causal") {
        // The second kill of the replay rank lands in its replay unless that recovery had nothing to replay.
        expect(run.killedDuringReplay || run.nothingToReplay, why).toBe(true);
      }
      // Every death is restarted: the launcher's kills and the kill -9s from outside (an outside kill of a
      // rank with a count kill armed is indistinguishable from it, so it may be logged as that kill).
      expect(run.result.restarts, why).toBeGreaterThanOrEqual(run.result.kills.length);
      expect(run.result.restarts, why).toBeLessThanOrEqual(run.result.kills.length + run.result.otherDeaths + run.result.externalFired.length);
    }, 240_000); // crashRun's 180 s job budget plus the reference run
  });

  it("sees a survivor roll back: coordinated checkpointing rolls every rank back to its recovery line, which the pessimistic/causal rule rejects", async () => {
    const ckpt = PROTOCOLS.find((p) => p.name === "coordinated-checkpointing");
    const pess = PROTOCOLS.find((p) => p.family === "pessimistic");
    if (ckpt === undefined || pess === undefined) return;
    const a = appCase("jacobi");
    const ref = await referenceRun(a.path, a.args, 4);
    const run = await runEgida({ size: 4, protocol: builtProtocol(ckpt.name), app: a.path, args: a.args, kills: ["2@40msgs"], timeoutMs: 60_000 });
    expect(run.code, `${run.command}\n${run.stderr}`).toBe(0);
    expect(judge(a, run.outputs, ref.outputs)).toBeNull();
    // The host reports the resets of ranks 0, 1, 3 (live, never killed); rank 2 restores before it is live.
    expect(new Set(run.liveResets.map((r) => r.rank)), run.stderr).toEqual(new Set([0, 1, 3]));
    expect(familyRule(ckpt, run)).toBeNull();
    expect(familyRule(pess, run)).toMatch(/had not failed, yet its app state was reset/);
  }, 90_000);

  // A rank SIGKILLed while every rank is still starting (loading, opening its storage): its
  // recovery reaches peers that are not ready yet. This hung the causal protocols (a first
  // incarnation deferred the GATHER forever) and crashed Fig 3a (a token judged before the log
  // was open): docs/campaign-real.md. One protocol per family, and every causal one.
  const firstOfFamily = new Set<string>();
  const early = PROTOCOLS.filter((p) => {
    const first = !firstOfFamily.has(p.family);
    firstOfFamily.add(p.family);
    return first || p.family === "causal";
  });
  for (const protocol of early) {
    it.concurrent(`${protocol.name} (${protocol.family}) / jacobi: --kill 2@200ms, during everyone's start-up, matches the failure-free run`, async () => {
      const a = appCase("jacobi");
      const ref = await referenceRun(a.path, a.args, 4);
      const run = await runEgida({ size: 4, protocol: builtProtocol(protocol.name), app: a.path, args: a.args, kills: ["2@200ms"], restartDelayMs: 100, timeoutMs: 60_000 });
      const why = `${run.command}\n${run.stderr}`;
      expect(run.code, why).toBe(0);
      expect(run.kills.length, why).toBe(1);
      expect(judge(a, run.outputs, ref.outputs), why).toBeNull();
      expect(familyRule(protocol, run), why).toBeNull();
    }, 90_000);
  }
});
