/**
 * Both crash campaigns take protocols compiled from a plugin directory
 * (`--plugins`: examples/plugins/mirrored-disk and batched-output), end to
 * end through their command lines:
 *  - the real campaign compiles each example with `egida-gen compile` from
 *    its directory and runs it under egida-run on 4 processes with SIGKILLs,
 *    judged against the failure-free run: every plugin's protocol gets kills
 *    and recoveries, and no violation or stall;
 *  - the simulated campaign runs the same examples (a plugin medium simulated
 *    by its `stable` trait) clean, and catches a plugin block that waits on
 *    the wall clock (`setTimeout`, what batched-output did): on the
 *    simulator every writer run stalls, the campaign exits 1 and names the
 *    `--plugin` command that reproduces it.
 * Both campaigns run at once (each is mostly start-up: tsx, egida-gen).
 */
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
const TSX = join(ROOT, "node_modules/tsx/dist/cli.mjs");

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function campaign(script: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TSX, join(ROOT, "scripts", script), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The summary table's row for `protocol` × `app`: its counts by column name. */
function row(stdout: string, protocol: string, app: string): Record<string, number> {
  const lines = stdout.split("\n");
  const head = lines.find((l) => l.startsWith("protocol ") && l.includes("violations"));
  const cells = lines.find((l) => l.split(/\s+/)[0] === protocol && l.split(/\s+/).includes(app));
  if (head === undefined || cells === undefined) throw new Error(`no row ${protocol} × ${app} in:\n${stdout}`);
  // Column names may hold one space ("in recovery"); columns are two spaces apart.
  const names = head.trim().split(/\s{2,}/);
  const values = cells.trim().split(/\s+/);
  return Object.fromEntries(names.map((n, i) => [n, Number(values[i])]));
}

let tmp: string;
let wallclock: string;
let real: Promise<Ran>;
let sim: Promise<Ran>;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "egida-plugin-campaign-"));
  // batched-output as it was: the group's window on the global setTimeout, not the host's clock.
  wallclock = join(tmp, "batched-wallclock");
  cpSync(join(ROOT, "examples/plugins/batched-output"), wallclock, { recursive: true });
  const block = join(wallclock, "blocks/batched-commit.ts");
  const text = readFileSync(block, "utf8");
  const edited = text.replace('s.host.timers.after(param<number>("batch.windowMs"), resolve)', 'setTimeout(resolve, param<number>("batch.windowMs"))');
  expect(edited).not.toBe(text);
  writeFileSync(block, edited);
  const spec = join(wallclock, "example.egida");
  writeFileSync(spec, readFileSync(spec, "utf8").replace("protocol batched-pessimistic", "protocol batched-wallclock"));

  real = campaign("real-campaign.ts", ["--plugins", "--app", "token-ring", "--runs", "1", "--beyond", "0", "--kills", "0", "--jobs", "2", "--seed", "11"]);
  sim = campaign("campaign.ts", ["--plugins", "--plugin", wallclock, "--app", "writer", "--runs", "2", "--seed", "5", "--no-shrink"]);
});
afterAll(async () => {
  await Promise.allSettled([real, sim]);
  rmSync(tmp, { recursive: true, force: true });
});

describe("the crash campaigns run plugin protocols", () => {
  it("real processes: both examples compiled from their directories, SIGKILLed and recovered, no violation or stall", { timeout: 180_000 }, async () => {
    const r = await real;
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    for (const p of ["mirrored-pessimistic", "batched-pessimistic"]) {
      const t = row(r.stdout, p, "token-ring");
      expect(t["runs"]).toBe(1);
      expect(t["kills"], p).toBeGreaterThan(0);
      expect(t["recoveries"], p).toBeGreaterThan(0);
      expect(t["stalls"]).toBe(0);
      expect(t["violations"]).toBe(0);
    }
    expect(r.stdout).toMatch(/\b2 runs .*, [1-9]\d* real SIGKILLs, 0 stalled, .* 0 violations; 2 protocol\(s\) × 1 app\(s\)/);
  });

  it("simulated: both examples clean; a plugin block on the wall clock stalls every writer run, with its --plugin reproduction", { timeout: 180_000 }, async () => {
    const r = await sim;
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
    for (const p of ["mirrored-pessimistic", "batched-pessimistic"]) {
      const t = row(r.stdout, p, "writer");
      expect(t["crashes"], p).toBeGreaterThan(0);
      expect(t["violations"], p).toBe(0);
    }
    const bad = row(r.stdout, "batched-wallclock", "writer");
    expect(bad["stalls"]).toBe(2);
    expect(bad["violations"]).toBe(2);
    expect(r.stdout).toContain("stalled (deadlock): the simulation went idle");
    expect(r.stdout).toContain(`reproduce: npm run campaign -- --plugin ${wallclock} --backend inline --app writer --seed 5 --schedule `);
  });
});
