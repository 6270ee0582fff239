/**
 * A process that takes a killed rank's port during the launcher's restart
 * delay must not end the job (it used to: the restarted rank retried the port
 * for 10 s and died with a raw EADDRINUSE). The squatter here is the harsh
 * kind: it accepts connections and never answers, so the peers that re-dial
 * the old port get stuck on it until the launcher tells them the rank's new
 * port.
 */
import { createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { appCase, judge } from "./lib/apps.js";
import { builtProtocol, realProtocols } from "./lib/protocols.js";
import { referenceRun, runEgida } from "./lib/run.js";

const PROTOCOLS = (await realProtocols()).map((p) => p.name);

describe("port squatting under egida-run", () => {
  it("fig4a-sby, token-ring: a squatter grabs killed rank 1's port before its restart; the job finishes with the failure-free result", async () => {
    if (!PROTOCOLS.includes("fig4a-sby")) return; // only where the generated package is present
    const a = { ...appCase("token-ring"), args: ["40"] };
    const ref = await referenceRun(a.path, a.args, 3);

    const held: Socket[] = [];
    const squatter = createServer((s) => {
      held.push(s);
      s.on("error", () => {});
    });
    let port: number | undefined;
    let squatted: Promise<void> | undefined;
    const run = await runEgida({
      size: 3,
      protocol: builtProtocol("fig4a-sby"),
      app: a.path,
      args: a.args,
      kills: ["1@20msgs"],
      // Long enough that the squatter surely binds before the restart, whatever the load.
      restartDelayMs: 1000,
      timeoutMs: 40_000,
      // EGIDA_DEBUG shows the transport's info lines, among them where each rank listens.
      env: { EGIDA_DEBUG: "1" },
      onLine: (line) => {
        const m = /^rank 1: info: rank 1: listening on 127\.0\.0\.1:(\d+)$/.exec(line);
        if (m && port === undefined) port = Number(m[1]);
        if (/watchdog: restarting rank 1 as incarnation 1/.test(line) && port !== undefined && squatted === undefined) {
          squatted = new Promise<void>((res, rej) => {
            squatter.once("error", rej);
            squatter.listen({ host: "127.0.0.1", port, exclusive: true }, () => res());
          });
        }
      },
    });
    try {
      expect(port, run.stderr).toBeDefined();
      expect(squatted, run.stderr).toBeDefined();
      await squatted; // it did bind the dead rank's port
      expect(run.code, `${run.command}\n${run.stderr}`).toBe(0);
      expect(run.stderr).toMatch(new RegExp(`rank 1: port ${port} is taken by another process; it listens on \\d+, the other ranks are told`));
      expect(run.lives).toEqual([expect.objectContaining({ rank: 1, incarnation: 1 })]);
      // Rank 2 (it dials rank 1) re-dialed the old port and was held by the squatter, then moved on.
      expect(held.length, run.stderr).toBeGreaterThanOrEqual(1);
      expect(run.stderr).not.toMatch(/EADDRINUSE|MaxListenersExceededWarning/);
      expect(judge(a, run.outputs, ref.outputs)).toBeNull();
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => squatter.close(r));
    }
  }, 60_000);
});
