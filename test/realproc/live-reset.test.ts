/**
 * A TCP connection between two LIVE ranks is reset mid-run (no process dies):
 * the transport re-dials, resends what the peer had not received and drops
 * what it had (runtime-core/src/transport/tcp.ts, "Resend"), so the job ends
 * with the failure-free outputs and no rank restarts or rolls back.
 *
 * The resets are real: `ss -K` (SOCK_DESTROY) aborts the job's established
 * loopback connections from outside, and the kernel sends the peer an RST,
 * as a middlebox or a NIC reset would. That needs root and a kernel built
 * with CONFIG_INET_DIAG_DESTROY; where either is missing the test says so
 * and does nothing (probed once on a connection of its own).
 */
import { spawnSync } from "node:child_process";
import { createServer, connect, type AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { appCase, judge } from "./lib/apps.js";
import { builtProtocol, realProtocols } from "./lib/protocols.js";
import { referenceRun, runEgida } from "./lib/run.js";

const PROTOCOLS = (await realProtocols()).map((p) => p.name);

/** Abort every established TCP socket whose local port is one of `ports`; how many it aborted. */
function resetConnections(ports: readonly number[]): number {
  const filter = `( ${ports.map((p) => `sport = :${p}`).join(" or ")} )`;
  const r = spawnSync("ss", ["-K", "-tnH", "state", "established", filter], { encoding: "utf8" });
  if (r.status !== 0) return 0;
  return r.stdout.split("\n").filter((l) => l.trim() !== "").length;
}

/** Null when `ss -K` really aborts a connection here, else why not. */
async function destroyUnsupported(): Promise<string | null> {
  if (process.getuid?.() !== 0) return "SOCK_DESTROY needs root";
  if (spawnSync("ss", ["-V"]).status !== 0) return "iproute2's ss is not installed";
  const server = createServer((s) => s.on("error", () => {}));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const client = connect(port, "127.0.0.1");
  client.on("error", () => {});
  await new Promise((r) => client.once("connect", r));
  const closed = new Promise<boolean>((r) => {
    client.once("close", () => r(true));
    setTimeout(() => r(false), 2000);
  });
  resetConnections([port]);
  const ok = await closed;
  client.destroy();
  await new Promise((r) => server.close(r));
  return ok ? null : "this kernel has no SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY): `ss -K` aborts nothing";
}

const unsupported = await destroyUnsupported();

describe("connections reset between live ranks (real TCP, ss -K)", () => {
  it.each(["family-based-causal", "receiver-based-pessimistic", "coordinated-checkpointing"])(
    "%s, jacobi on 4 ranks: every connection aborted 4 times mid-run; failure-free outputs, no restart, no rollback",
    async (name) => {
      if (unsupported !== null) {
        console.warn(`live-reset: skipped: ${unsupported}`);
        return;
      }
      if (!PROTOCOLS.includes(name)) return; // only where the generated package is present
      // Long enough that the four resets (within 0.6 s of the links coming up) land mid-run
      // on a fast, idle machine too: at 1 500 iterations a co-ordinated checkpointing job ended first.
      const a = { ...appCase("jacobi"), args: ["32", "10000"] };
      const ref = await referenceRun(a.path, a.args, 4);

      const ports = new Set<number>();
      let connected = 0;
      let aborted = 0;
      let resets = 0;
      let timer: NodeJS.Timeout | undefined;
      const run = await runEgida({
        size: 4,
        protocol: builtProtocol(name),
        app: a.path,
        args: a.args,
        timeoutMs: 90_000,
        // EGIDA_DEBUG prints the transport's info lines: where each rank listens, each (re)connection.
        env: { EGIDA_DEBUG: "1" },
        onLine: (line) => {
          const m = /^rank \d+: info: rank \d+: listening on 127\.0\.0\.1:(\d+)$/.exec(line);
          if (m) ports.add(Number(m[1]));
          if (/^rank \d+: info: rank \d+: connected /.test(line)) {
            connected++;
            // Once all 4 listen and the 6 links are up (each end logs it), reset every 150 ms, 4 times.
            if (timer === undefined && ports.size === 4 && connected >= 12) {
              timer = setInterval(() => {
                aborted += resetConnections([...ports]);
                if (++resets === 4) clearInterval(timer);
              }, 150);
            }
          }
        },
      });
      clearInterval(timer);
      expect(run.code, `${run.command}\n${run.stderr}`).toBe(0);
      expect(resets, "the job ended before the resets were made: give it more iterations").toBe(4);
      // The resets hit the job's connections and the ranks re-connected (each end logs it again).
      expect(aborted, run.stderr).toBeGreaterThanOrEqual(4);
      expect(connected, run.stderr).toBeGreaterThan(12);
      expect(run.restarts, run.stderr).toBe(0);
      expect(run.lives, run.stderr).toEqual([]);
      expect(run.rollbacks, run.stderr).toEqual([]);
      expect(judge(a, run.outputs, ref.outputs), run.stderr).toBeNull();
    },
    120_000,
  );
});
