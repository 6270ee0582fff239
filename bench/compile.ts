/**
 * Compile benchmark (not a test): CPU time of a fresh
 * `node compiler/bin/egida-gen.js compile SPEC --out DIR` process per spec in
 * specs/, as the process itself measures it (process.cpuUsage at exit, user +
 * system, written by bench/raw/probe.mjs). Reports the median over --reps runs
 * per spec; the target (issue 14) is under 1 s for every spec, without --build.
 *
 *   npm run build && npx tsx bench/compile.ts [--reps 3] [--emit inline|modular] [--spec fig4a-sby]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchArgs } from "./args.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const values = benchArgs("compile", "Usage: npm run build && npx tsx bench/compile.ts [--reps 3] [--emit inline|modular] [--spec NAME]", {
  reps: { type: "string", default: "3" },
  emit: { type: "string", default: "inline" },
  spec: { type: "string" },
});
const REPS = Number(values.reps);
const BIN = join(root, "compiler/bin/egida-gen.js");
const PROBE = join(root, "bench/raw/probe.mjs");

/** CPU ms of one fresh egida-gen process running `args`. */
function cpuMs(args: readonly string[]): number {
  const probeDir = mkdtempSync(join(tmpdir(), "egida-bench-compile-"));
  try {
    const r = spawnSync(process.execPath, ["--import", PROBE, BIN, ...args], { cwd: root, env: { ...process.env, EGIDA_BENCH_PROBE_DIR: probeDir }, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`egida-gen ${args.join(" ")} exited ${String(r.status)}: ${r.stderr.trim()}`);
    const [file] = readdirSync(probeDir);
    if (file === undefined) throw new Error("the probe wrote nothing");
    const u = JSON.parse(readFileSync(join(probeDir, file), "utf8")) as { userUs: number; systemUs: number };
    return (u.userUs + u.systemUs) / 1000;
  } finally {
    rmSync(probeDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const specs = readdirSync(join(root, "specs"))
  .filter((f) => f.endsWith(".egida") && (values.spec === undefined || f === `${values.spec}.egida`))
  .sort();
console.log(`node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? "?"}), load ${loadavg()[0]!.toFixed(1)}; median of ${REPS} runs, CPU ms (user + system) of one egida-gen process`);
const out = mkdtempSync(join(tmpdir(), "egida-bench-out-"));
const compileMedians: number[] = [];
try {
  for (const f of specs) {
    const spec = `specs/${f}`;
    const check: number[] = [];
    const compile: number[] = [];
    for (let i = 0; i < REPS; i++) {
      check.push(cpuMs(["check", spec]));
      compile.push(cpuMs(["compile", spec, "--out", join(out, f), "--emit", values.emit!]));
    }
    compileMedians.push(median(compile));
    console.log(`${f.padEnd(44)} compile ${median(compile).toFixed(0).padStart(5)} ms   check ${median(check).toFixed(0).padStart(5)} ms`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
console.log(`compile: slowest spec ${Math.max(...compileMedians).toFixed(0)} ms, median over specs ${median(compileMedians).toFixed(0)} ms`);
