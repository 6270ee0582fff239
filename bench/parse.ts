/**
 * Front-end benchmark (not a test): how long the parser and checker take on
 * hostile but valid-looking input, so a super-linear path shows up as a number
 * here rather than as a timed test that fails under load.
 *
 *   npx tsx bench/parse.ts [--reps 3]
 */
import { cpus, loadavg } from "node:os";
import { benchArgs } from "./args.js";
import { parseSpec } from "../compiler/src/frontend.js";
import { builtinRegistry } from "../compiler/src/registry/builtin-registry.js";

const values = benchArgs("parse", "Usage: npx tsx bench/parse.ts [--reps 3]", { reps: { type: "string", default: "3" } });
const REPS = Number(values.reps);
const registry = builtinRegistry();

const line = "send: Piggyback vector clock, logical clock /* comment */ ";
const cases: { name: string; input: string | Uint8Array }[] = [
  { name: "1 MiB of repeated valid statements", input: line.repeat(Math.floor((1024 * 1024 - 100) / line.length)) },
  { name: "10 MB of spaces (rejected by size)", input: new Uint8Array(10 * 1024 * 1024).fill(0x20) },
  { name: "10,000 nested comment openers", input: "/*".repeat(10_000) + "*/".repeat(10_000) },
  { name: "a 10,000-item piggyback list", input: "send: Piggyback " + Array.from({ length: 10_000 }, () => "vector clock").join(", ") },
];

console.log(`node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? "?"}), load ${loadavg()[0]!.toFixed(1)}`);
for (const c of cases) {
  const times: number[] = [];
  let diags = 0;
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    diags = parseSpec(c.input, "bench.egida", registry).diagnostics.length;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`${c.name.padEnd(40)} median ${times[Math.floor(times.length / 2)]!.toFixed(0).padStart(6)} ms  (${diags} diagnostics)`);
}
