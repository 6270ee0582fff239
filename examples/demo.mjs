#!/usr/bin/env node
// `npm start`: egida in one minute. Runs a sample application (a 2-D Jacobi
// stencil with halo exchange) on 4 local processes under a generated paper
// protocol, first failure-free, then again with one rank SIGKILLed mid-run;
// shows the kill, the restart and the recovery as they happen, checks that
// the crashed run computed exactly what the failure-free run did, and prints
// a summary. Exit 0 when the results match, 1 otherwise.
//
//   node examples/demo.mjs [--protocol fig4a-sby] [--app jacobi] [--kill-rank 2]
//
// It drives the real launcher (runtime-core/bin/egida-run.js: one process per
// rank over TCP, a watchdog that restarts killed ranks) and reads what it
// reports: its run trace (--trace) for live progress, --output for the results,
// the summary for the protocol's counters. The crash run's trace and its
// space-time diagram (egida-view) are kept, and their paths printed.

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual, parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const EGIDA_RUN = join(ROOT, "runtime-core/bin/egida-run.js");
const EGIDA_VIEW = join(ROOT, "runtime-core/bin/egida-view.js");
/** Where the crash run's trace and diagram stay after the demo. */
const KEEP = join(tmpdir(), "egida-demo");
const SIZE = 4;
const APPS = {
  jacobi: { args: ["48", "160"], what: "2-D Jacobi stencil, 48x48 grid, 160 iterations, halo exchange" },
  "token-ring": { args: ["150"], what: "a token circulating 150 rounds" },
  "all-to-all": { args: ["60"], what: "60 rounds of all-to-all exchange, order-sensitive digests" },
  writer: { args: ["150"], what: "150 steps per rank, an output (ctx.write) at every step" },
};

const tty = process.stdout.isTTY === true;
const c = (code, s) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const bold = (s) => c(1, s);
const dim = (s) => c(2, s);
const red = (s) => c(31, s);
const green = (s) => c(32, s);
const yellow = (s) => c(33, s);
const cyan = (s) => c(36, s);

function die(msg) {
  process.stderr.write(`demo: ${msg}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    protocol: { type: "string", default: "fig4a-sby" },
    app: { type: "string", default: "jacobi" },
    "kill-rank": { type: "string", default: "2" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  process.stdout.write("usage: node examples/demo.mjs [--protocol NAME] [--app jacobi|token-ring|all-to-all|writer] [--kill-rank R]\n");
  process.stdout.write(`protocols: ${readdirSync(join(ROOT, "generated")).filter((d) => existsSync(join(ROOT, "generated", d, "src/index.ts"))).join(", ")}\n`);
  process.exit(0);
}
const protocolName = values.protocol;
const app = APPS[values.app] ?? die(`unknown app ${values.app} (have ${Object.keys(APPS).join(", ")})`);
const appPath = join(ROOT, "examples/apps", `${values.app}.mjs`);
const killRank = Number(values["kill-rank"]);
if (!(Number.isInteger(killRank) && killRank >= 0 && killRank < SIZE)) die(`--kill-rank must be 0..${SIZE - 1}`);
if (!existsSync(join(ROOT, "runtime-core/dist/index.js"))) die("runtime-core is not built: run `npm run build` (npm ci does it)");

/**
 * Generated packages are checked in as TypeScript. egida-run can load them
 * through tsx, but that costs seconds in each of the 4 rank processes and at
 * every restart, which would blur the recovery time we want to show. So we
 * transpile the one-file package once (TypeScript's transpileModule, no type
 * check: the build's golden test does that) into node_modules/.cache.
 */
function protocolDir(name) {
  const pkg = join(ROOT, "generated", name);
  if (!existsSync(join(pkg, "src/index.ts"))) die(`no generated protocol ${name} (see generated/)`);
  let ts;
  try {
    ts = createRequire(import.meta.url)("typescript");
  } catch {
    return pkg; // no TypeScript installed: let egida-run load the sources through tsx
  }
  const src = readFileSync(join(pkg, "src/index.ts"), "utf8");
  const hash = createHash("sha256").update(src).digest("hex").slice(0, 12);
  const dir = join(ROOT, "node_modules/.cache/egida-demo", `${name}-${hash}`);
  if (existsSync(join(dir, "dist/index.js"))) return dir;
  const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, fileName: "index.ts" });
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(join(tmp, "dist"), { recursive: true });
  writeFileSync(join(tmp, "package.json"), readFileSync(join(pkg, "package.json")));
  writeFileSync(join(tmp, "dist/index.js"), out.outputText);
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/**
 * Deliveries so far per rank (all incarnations), from the run trace: while the
 * job runs, from the part each rank process appends to (FILE.parts/rank-R.jsonl);
 * once egida-run merged them, from FILE itself.
 */
function traceDeliveries(file) {
  const counts = new Array(SIZE).fill(0);
  const count = (text, r) => {
    const key = r === undefined ? '"ev":"deliver"' : `"rank":${r},`;
    for (const line of text.split("\n")) {
      if (!line.includes('"ev":"deliver"')) continue;
      const m = /"rank":(\d+),/.exec(line);
      if (m && (r === undefined || key === `"rank":${m[1]},`)) counts[Number(m[1])]++;
    }
  };
  for (let r = 0; r < SIZE; r++) {
    const f = join(`${file}.parts`, `rank-${r}.jsonl`);
    if (existsSync(f) && statSync(f).size > 0) count(readFileSync(f, "utf8"), r);
  }
  if (counts.every((n) => n === 0) && existsSync(file)) count(readFileSync(file, "utf8"));
  return counts;
}

/**
 * One job under egida-run. `onEvent(line, msSinceStart)` sees the launcher's
 * messages as they come; a progress line with per-rank deliveries is redrawn
 * while it runs.
 */
function runJob(label, kills, onEvent, keepTrace) {
  const work = mkdtempSync(join(tmpdir(), "egida-demo-"));
  const out = join(work, "out.jsonl");
  const traces = keepTrace ?? join(work, "run.trace.jsonl");
  const args = [EGIDA_RUN, "-n", String(SIZE), "-q", "--protocol", protoDir, "--output", out, "--trace", traces, "--timeout", "50000"];
  for (const k of kills) args.push("--kill", k);
  args.push(appPath, "--", ...app.args);
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  const lines = [];
  let progressShown = false;
  const clearProgress = () => {
    if (tty && progressShown) process.stdout.write("\r\x1b[2K");
    progressShown = false;
  };
  const drawProgress = () => {
    const d = traceDeliveries(traces);
    const t = ((performance.now() - started) / 1000).toFixed(1);
    const text = `  ${dim(`${label} ${t}s`)}  deliveries ${d.map((n, r) => `r${r} ${String(n).padStart(4)}`).join("  ")}`;
    if (tty) {
      process.stdout.write(`\r\x1b[2K${text}`);
      progressShown = true;
    } else if (Math.round(performance.now() - started) % 2000 < 500) {
      process.stdout.write(`${text}\n`);
    }
  };
  const ticker = setInterval(drawProgress, 500);
  let buf = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      clearProgress();
      onEvent(line, performance.now() - started);
    }
  });
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearInterval(ticker);
      drawProgress();
      if (tty) process.stdout.write("\n");
      const outputs = Array.from({ length: SIZE }, () => []);
      if (existsSync(out)) {
        for (const l of readFileSync(out, "utf8").split("\n")) {
          if (l.trim() === "") continue;
          const o = JSON.parse(l);
          outputs[o.rank].push(o.data);
        }
      }
      rmSync(work, { recursive: true, force: true });
      resolve({ code: code ?? 1, ms: performance.now() - started, lines, outputs, summary: parseSummary(lines) });
    });
  });
}

function parseSummary(lines) {
  const text = lines.join("\n");
  const num = (re) => Number(re.exec(text)?.[1] ?? NaN);
  const perRank = [];
  for (const l of lines) {
    const m = /^\s+rank (\d+): deliveries (\d+)/.exec(l);
    if (m) perRank[Number(m[1])] = Number(m[2]);
  }
  return {
    messages: num(/messages (\d+), deliveries/),
    deliveries: num(/, deliveries (\d+), outputs/),
    piggybackBytes: num(/piggyback bytes (\d+)/),
    bytesLogged: num(/bytes logged (\d+)/),
    checkpoints: num(/checkpoints (\d+), rollbacks/),
    rollbacks: num(/checkpoints \d+, rollbacks (\d+)/),
    perRank,
  };
}

function failureOf(res) {
  return res.lines.filter((l) => /error:/.test(l)).join("\n") || `egida-run exited ${res.code}`;
}

// ---------------------------------------------------------------------------

const t0 = performance.now();
process.stdout.write(`${bold("egida demo")}: ${app.what}\n`);
process.stdout.write(`  ${SIZE} processes on this machine over TCP, protocol ${cyan(protocolName)} (generated/${protocolName}, from specs/${protocolName}.egida)\n\n`);
const protoDir = protocolDir(protocolName);

process.stdout.write(`${bold("1. failure-free run")}\n`);
const ref = await runJob("failure-free", [], () => {});
if (ref.code !== 0) {
  process.stdout.write(red(`  the failure-free run failed:\n${failureOf(ref)}\n`));
  process.exit(1);
}
process.stdout.write(`  done in ${(ref.ms / 1000).toFixed(1)} s: ${ref.summary.messages} messages, ${ref.summary.deliveries} deliveries\n\n`);

// Kill mid-run: right after the victim's delivery at half its failure-free count.
const victimDeliveries = ref.summary.perRank[killRank] ?? 0;
if (victimDeliveries < 4) die(`rank ${killRank} delivers only ${victimDeliveries} messages in this app: pick another --kill-rank`);
const killAt = Math.floor(victimDeliveries / 2);
process.stdout.write(`${bold("2. the same job, rank " + killRank + " SIGKILLed at its delivery " + killAt + " of " + victimDeliveries)}\n`);
let killedAt = null;
let liveAt = null;
let replayed = null;
mkdirSync(KEEP, { recursive: true });
const crashTrace = join(KEEP, "crash-run.trace.jsonl");
const crashHtml = join(KEEP, "crash-run.html");
const crash = await runJob("with a crash", [`${killRank}@${killAt}msgs`], (line, ms) => {
  const at = dim(`${(ms / 1000).toFixed(2)}s`);
  let m;
  if ((m = /rank (\d+) killed at its delivery (\d+)/.exec(line))) {
    killedAt = ms;
    process.stdout.write(`  ${at}  ${red("✗ SIGKILL")} rank ${m[1]} right after its delivery ${m[2]} (frames it had not flushed are lost with it)\n`);
  } else if ((m = /watchdog: restarting rank (\d+) as incarnation (\d+) in (\d+) ms/.exec(line))) {
    process.stdout.write(`  ${at}  ${yellow("↻ watchdog")} restarts rank ${m[1]} as incarnation ${m[2]} in ${m[3]} ms\n`);
  } else if ((m = /rank (\d+): recovered \((\d+) replayed\)/.exec(line))) {
    replayed = Number(m[2]);
    process.stdout.write(`  ${at}  ${cyan("⟲ recovered")} rank ${m[1]}: checkpoint restored, ${m[2]} deliveries replayed from the log in their logged order\n`);
  } else if ((m = /rank (\d+) incarnation (\d+) is live/.exec(line))) {
    liveAt = ms;
    process.stdout.write(`  ${at}  ${green("✓ live")} rank ${m[1]} incarnation ${m[2]} is live again\n`);
  } else if ((m = /rank (\d+): rolled back: (.*)$/.exec(line))) {
    // Checkpoint-only and optimistic protocols roll survivors back; pessimistic and causal never do.
    process.stdout.write(`  ${at}  ${yellow("↺ rollback")} rank ${m[1]}: ${m[2]}\n`);
  } else if (/error:/.test(line)) {
    process.stdout.write(`  ${at}  ${red(line)}\n`);
  }
}, crashTrace);
// The crash run as a space-time diagram: one HTML file, no server.
const viewed = spawnSync(process.execPath, [EGIDA_VIEW, crashTrace, "--out", crashHtml, "--title", `egida demo: ${values.app} under ${protocolName}, rank ${killRank} killed`], { encoding: "utf8" });

// ---------------------------------------------------------------------------

const matched = crash.code === 0 && isDeepStrictEqual(crash.outputs, ref.outputs) && ref.outputs.some((o) => o.length > 0);
const s = crash.summary;
process.stdout.write(`\n${bold("3. result")}\n`);
if (crash.code !== 0) process.stdout.write(red(`  the crashed run failed:\n${failureOf(crash)}\n`));
const final = ref.outputs[0].at(-1);
if (final !== undefined) process.stdout.write(`  failure-free: ${dim(JSON.stringify(final))}\n  with a crash: ${dim(JSON.stringify(crash.outputs[0].at(-1) ?? null))}\n`);
process.stdout.write(
  matched
    ? `  ${green("✓ identical")}: every rank's outputs equal the failure-free run's (${crash.outputs.reduce((n, o) => n + o.length, 0)} outputs)\n`
    : `  ${red("✗ different")}: the crashed run's outputs differ from the failure-free run's\n`,
);

const recovery = killedAt !== null && liveAt !== null ? `${Math.round(liveAt - killedAt)} ms (kill → live, incl. the ${"restart delay"} and process start)` : "n/a";
process.stdout.write(`\n${bold("summary")} (${protocolName}, the run with the crash)\n`);
const row = (k, v) => process.stdout.write(`  ${k.padEnd(18)} ${v}\n`);
row("messages", `${s.messages}`);
row("piggyback bytes", `${s.piggybackBytes} (${(s.piggybackBytes / Math.max(1, s.messages)).toFixed(1)} per message)`);
row("bytes logged", `${s.bytesLogged}`);
row("checkpoints", `${s.checkpoints}`);
row("replayed", replayed === null ? "n/a" : `${replayed} deliveries`);
row("recovery time", recovery);
row("rollbacks", `${s.rollbacks} (survivors)`);
row("result matched", matched ? green("yes") : red("no"));
if (viewed.status === 0) process.stdout.write(`\n${bold("see the run")}: ${cyan(crashHtml)} ${dim(`(trace ${crashTrace})`)}\n`);
else process.stdout.write(`\n${red("egida-view failed:")} ${viewed.stderr.trim()}\n`);
process.stdout.write(dim(`  (${((performance.now() - t0) / 1000).toFixed(1)} s in all; try --protocol receiver-based-pessimistic or --app writer)\n`));
process.exit(matched ? 0 : 1);
