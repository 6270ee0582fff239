/**
 * Real processes (issue 5 §5): every crash-proven generated protocol
 * (docs/protocols.md) runs the sample apps under `egida-run` over TCP with
 * SIGKILLs, and each result must equal the failure-free run's:
 *  - random ranks at random delivery counts, several kills per run;
 *  - the same rank twice, the second kill during its replay (counts include
 *    replayed deliveries);
 *  - a time kill (SIGKILL from the launcher) at a random moment;
 *  - kills during the writer app's write-heavy run (an output per step).
 * A bounded slice for `npm test`: each protocol gets the writer app plus one
 * other app in rotation, so the five apps are all covered; EGIDA_REALPROC_FULL=1
 * runs every app for every protocol. The long campaign is scripts/real-campaign.ts.
 */
import { describe, expect, it } from "vitest";
import { APPS, appCase, type AppCase } from "./lib/apps.js";
import { crashRun } from "./lib/job.js";
import { crashProvenProtocols } from "./lib/protocols.js";

const PROTOCOLS = crashProvenProtocols();
const OTHERS = APPS.filter((a) => a.name !== "writer");

function appsFor(i: number): AppCase[] {
  if (process.env["EGIDA_REALPROC_FULL"] === "1") return [...APPS];
  return [appCase("writer"), OTHERS[i % OTHERS.length]!, ...(i + PROTOCOLS.length < OTHERS.length ? [OTHERS[i + PROTOCOLS.length]!] : [])];
}

describe("real processes over TCP with SIGKILLs", () => {
  it("finds the crash-proven protocols in docs/protocols.md", () => {
    expect(PROTOCOLS).toContain("fig4a-sby");
  });

  PROTOCOLS.forEach((protocol, i) => {
    for (const app of appsFor(i)) {
      it.concurrent(`${protocol} / ${app.name}: several kills incl. the same rank twice (once during replay) match the failure-free run`, async () => {
        const seed = 11 + i * 7 + app.name.length;
        const run = await crashRun(protocol, app, seed);
        const why = `${run.violation ?? ""}\nkills ${run.kills.join(" ")}\n${run.result.command}\n${run.result.stderr.split("\n").slice(-25).join("\n")}`;
        expect(run.violation, why).toBeNull();
        // Count kills are exact and always reached (counts include replays): every one fires.
        const countKills = run.kills.filter((k) => k.endsWith("msgs")).length;
        expect(countKills, why).toBeGreaterThanOrEqual(2);
        expect(run.result.kills.filter((k) => k.atDelivery !== undefined).length, why).toBe(countKills);
        // The second kill of the replay rank lands in its replay unless that recovery had nothing to replay.
        expect(run.killedDuringReplay || run.nothingToReplay, why).toBe(true);
        expect(run.result.restarts, why).toBe(run.fired + run.result.otherDeaths);
      }, 90_000);
    }
  });
});
