/**
 * `npx tsx scripts/causal-piggyback.ts [--sizes 4,8] [--seed S]`
 *
 * Piggyback load of the causal determinant trackers, failure-free, on the
 * real runtime in the simulation (runSimJob: RankHost, TCP-like frames): the
 * sample apps under family-based logging with f = 2 and each tracker
 * (`dependency matrix`: family-based-causal.egida; `stability vector`:
 * fbl-stability-vector.egida; `stability matrix`: fbl-stability-matrix.egida;
 * none: the same spec with plain `Piggyback
 * determinants`), built by the dev composer from the spec with the spec's
 * timers. Prints per app and size the piggyback bytes per application
 * message (protocol words only: the 4-byte ssn header included) and the total.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { App, ProtocolFactory } from "@egida/runtime-core/spi";
import { loadApp } from "../runtime-core/src/host/load-app.js";
import { runSimJob } from "../runtime-core/src/launcher/sim-job.js";
import { specFromText } from "../test/protocols/causal-spec.js";
import { composeFromIR } from "../compiler/src/dev/select-ir.js";

const ROOT = join(import.meta.dirname, "..");
const APPS: readonly (readonly [string, readonly string[]])[] = [
  ["token-ring", []],
  ["all-to-all", []],
  ["jacobi", []],
  ["writer", []],
  ["master-worker", []],
];

const { values } = parseArgs({ options: { sizes: { type: "string", default: "4,8" }, seed: { type: "string", default: "1" } } });
const sizes = values.sizes.split(",").map(Number);
const seed = Number(values.seed);

const dm = readFileSync(join(ROOT, "specs/family-based-causal.egida"), "utf8");
const trackers: readonly (readonly [string, string])[] = [
  ["dependency matrix", dm],
  ["stability vector", readFileSync(join(ROOT, "specs/fbl-stability-vector.egida"), "utf8")],
  ["stability matrix", readFileSync(join(ROOT, "specs/fbl-stability-matrix.egida"), "utf8")],
  ["none", dm.replace("Piggyback determinants, dependency matrix", "Piggyback determinants").replace("protocol family-based-causal", "protocol fbl-none")],
];

type SimFactory = Parameters<typeof runSimJob>[0]["protocol"];

async function main(): Promise<void> {
  const rows: string[][] = [["app", "n", ...trackers.map(([t]) => `${t} B/msg`), "messages"]];
  const totals = trackers.map(() => 0);
  let totalMsgs = 0;
  for (const size of sizes) {
    for (const [name, args] of APPS) {
      const app = (await loadApp(join(ROOT, "examples/apps", `${name}.mjs`))) as App<unknown>;
      const row = [name, String(size)];
      let msgs = -1;
      for (let i = 0; i < trackers.length; i++) {
        const factory: ProtocolFactory = composeFromIR(specFromText(trackers[i]![1]));
        const res = await runSimJob({ size, app, args, protocol: factory as unknown as SimFactory, seed, timeoutMs: 600_000 });
        if (res.failure !== null) throw new Error(`${name} n=${size} ${trackers[i]![0]}: ${JSON.stringify(res.failure)}`);
        let bytes = 0;
        let m = 0;
        for (const r of res.ranks) {
          bytes += r.stats?.piggybackBytes ?? 0;
          m += r.stats?.messages ?? 0;
        }
        // master-worker's reads make message counts differ slightly between runs; keep the first.
        if (msgs < 0) msgs = m;
        totals[i]! += bytes;
        if (i === 0) totalMsgs += m;
        row.push((bytes / m).toFixed(1));
      }
      row.push(String(msgs));
      rows.push(row);
    }
  }
  rows.push(["total", sizes.join("+"), ...totals.map((b) => (b / totalMsgs).toFixed(1)), String(totalMsgs)]);
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) process.stdout.write(`| ${r.map((x, c) => (c < 1 ? x.padEnd(w[c]!) : x.padStart(w[c]!))).join(" | ")} |\n`);
}

await main();
