/**
 * A generated protocol imports `@egida/runtime-core/protocol-lib` at run
 * time. A package directory run before `npm install` (outside any project,
 * so the import cannot resolve from it) still loads under egida-run: its
 * runtime imports fall back to egida-run's own install
 * (src/launcher/runtime-fallback.ts), in the launcher's process (the
 * simulator) and in the rank processes it forks (TCP, with a kill).
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "runtime-core/bin/egida-run.js");
const APP = join(ROOT, "examples/apps/jacobi.mjs");
const PROTOCOL = "fig4a-sby";
const tmp = mkdtempSync(join(tmpdir(), "egida-runtime-fallback-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], { cwd: tmp });
    let stderr = "";
    c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      c.kill("SIGKILL");
      reject(new Error(`egida-run ${args.join(" ")} timed out\n${stderr}`));
    }, 60_000);
    c.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const outputs = (file: string): string[] => readFileSync(join(tmp, file), "utf8").trim().split("\n").sort();

describe("a protocol package run before npm install", () => {
  // The built package as `egida-gen compile --build` leaves it: package.json and dist/, no node_modules.
  const pkg = join(tmp, "pkg");
  mkdirSync(pkg);
  cpSync(join(ROOT, "generated", PROTOCOL, "package.json"), join(pkg, "package.json"));
  cpSync(join(ROOT, "generated", PROTOCOL, "dist"), join(pkg, "dist"), { recursive: true });

  it("imports the runtime's protocol helpers, which do not resolve from its directory", () => {
    expect(readFileSync(join(pkg, "dist/index.js"), "utf8")).toMatch(/from "@egida\/runtime-core\/protocol-lib";/);
    expect(() => createRequire(join(pkg, "package.json")).resolve("@egida/runtime-core/protocol-lib")).toThrow(/Cannot find module/);
  });

  it("runs under egida-run, on the simulator and on real processes with a kill, with the failure-free outputs", async () => {
    const ref = await run(["-n", "4", "--sim", "--protocol", "none", "--output", "none.jsonl", APP]);
    expect(ref.code, ref.stderr).toBe(0);
    const sim = await run(["-n", "4", "--sim", "--protocol", "./pkg", "--kill", "2@40msgs", "--output", "sim.jsonl", APP]);
    expect(sim.code, sim.stderr).toBe(0);
    expect(outputs("sim.jsonl")).toEqual(outputs("none.jsonl"));
    const tcp = await run(["-n", "4", "--protocol", "./pkg", "--kill", "2@40msgs", "--output", "tcp.jsonl", APP]);
    expect(tcp.code, tcp.stderr).toBe(0);
    expect(tcp.stderr).toMatch(/restarts 1/);
    expect(outputs("tcp.jsonl")).toEqual(outputs("none.jsonl"));
  }, 120_000);
});
