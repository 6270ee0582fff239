/**
 * `npm run campaign:real -- [--runs N] [--protocol P]... [--app A]... [--seed S] [--jobs J] [--kills K] [--beyond N]`
 *
 * The long real-process campaign (issue 5 §5): for every crash-proven
 * generated protocol (the conformance campaign's CRASH_PROVEN ∩ generated/,
 * test/realproc/lib/protocols.ts) × sample app, N runs under `egida-run`
 * over TCP, each with a seeded kill schedule (test/realproc/lib/schedule.ts:
 * random ranks at random delivery counts, the same rank twice with the
 * second kill during its recovery, a launcher SIGKILL at a random time;
 * which ranks may be down together depends on the family), judged against
 * the failure-free run by the family's rules (test/realproc/lib/job.ts).
 * Besides the launcher's kills, each run SIGKILLs ranks from outside (`kill -9`
 * at random times: one rank, then two at once where the family allows), and
 * protocols with a finite tolerance (causal logging, replicated logs) get
 * `--beyond` runs per app that kill f + 1 ranks at once, which must end with
 * exit 3 "unrecoverable" or the failure-free result. A run that outlives its
 * liveness bound (from the app's failure-free TCP length) is "stalled".
 * Prints a progress bar, then a table per protocol × app and one per family
 * (runs, kills, recoveries, kills during recovery, rollbacks, of which of
 * survivors, violations), and exits 1 on any violation, with the command
 * lines that reproduce it.
 *
 * `--plugin DIR` (repeatable; `--plugins`: every example in examples/plugins/)
 * adds the protocol a plugin directory's example.egida compiles to with
 * `egida-gen compile` from that directory, verbatim (its own timer periods;
 * test/conformance/plugin-protocols.ts), with node_modules/ linking the
 * plugin beside the package as `npm install` would: the same apps, kill
 * schedules and judgement as the crash-proven packages. A plugin medium is
 * its own store here (real files, fdatasync, SIGKILLs), so this is the
 * campaign that proves it; the simulated one simulates it by its `stable`
 * trait.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, hostname, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { APPS, appCase, type AppCase } from "../test/realproc/lib/apps.js";
import { crashRun, hasFiniteTolerance, skipFor, type CrashRun, type RunKind } from "../test/realproc/lib/job.js";
import { ROOT } from "../test/realproc/lib/paths.js";
import { PLUGIN_EXAMPLES, PluginSpecError } from "../test/conformance/plugin-protocols.js";
import { killPolicy, pluginProtocol, protocolDir, realProtocols, type RealProtocol } from "../test/realproc/lib/protocols.js";
import { formatTable, sumCounts } from "./lib/summary-table.js";

interface Tally {
  runs: number;
  kills: number;
  recoveries: number;
  duringRecovery: number;
  rollbacks: number;
  survivorRollbacks: number;
  violations: number;
  beyond: number;
  unrecoverable: number;
  stalls: number;
}

const empty = (): Tally => ({ runs: 0, kills: 0, recoveries: 0, duringRecovery: 0, rollbacks: 0, survivorRollbacks: 0, violations: 0, beyond: 0, unrecoverable: 0, stalls: 0 });

const USAGE = `usage: npm run campaign:real -- [options]
  --runs N       seeded runs within tolerance per protocol × app (default 2)
  --beyond N     runs beyond tolerance per protocol × app, for protocols with a finite f (default 1)
  --protocol P   only this protocol (repeatable; default: every crash-proven package in generated/)
  --plugin DIR   also the protocol DIR/example.egida (or DIR itself, a .egida file) compiles to with its
                 egida.config.json (repeatable); without --protocol, only the plugins' protocols run
  --plugins      --plugin for each of ${PLUGIN_EXAMPLES.join(", ")}
  --app A        only this app (repeatable): token-ring, all-to-all, jacobi, master-worker, writer
  --seed S       first seed (default 1)
  --jobs J       jobs at once (default 2)
  --kills K      extra kills at random delivery counts per run (default 2)
  --help         this text
Exit status: 0 no violation, 1 a violation or a stall, 2 usage.`;

function usage(msg: string): never {
  process.stderr.write(`real-campaign: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        runs: { type: "string", default: "2" },
        protocol: { type: "string", multiple: true },
        plugin: { type: "string", multiple: true },
        plugins: { type: "boolean" },
        app: { type: "string", multiple: true },
        seed: { type: "string", default: "1" },
        jobs: { type: "string", default: "2" },
        kills: { type: "string", default: "2" },
        beyond: { type: "string", default: "1" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (e) {
    usage(e instanceof Error ? e.message : String(e));
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const runs = Number(values.runs);
  const beyondRuns = Number(values.beyond);
  if (!(Number.isInteger(beyondRuns) && beyondRuns >= 0)) usage("--beyond must be an integer >= 0");
  const seed0 = Number(values.seed);
  const jobs = Number(values.jobs);
  const extraKills = Number(values.kills);
  if (!(Number.isInteger(runs) && runs >= 0 && Number.isInteger(seed0) && Number.isInteger(jobs) && jobs > 0 && Number.isInteger(extraKills) && extraKills >= 0)) {
    usage("--runs >= 0, --jobs > 0, --kills >= 0 and --seed must be integers");
  }
  const proven = await realProtocols();
  const names = proven.map((p) => p.name);
  const pluginDirs = [...(values.plugins === true ? PLUGIN_EXAMPLES : []), ...(values.plugin ?? [])];
  const plugins: RealProtocol[] = [];
  for (const dir of pluginDirs) {
    try {
      plugins.push(await pluginProtocol(dir)); // compiled once, before the runs
    } catch (e) {
      if (e instanceof PluginSpecError) usage(e.message);
      throw e;
    }
  }
  plugins.forEach((p, i) => {
    if (names.includes(p.name)) usage(`--plugin ${p.plugin!.arg}: its protocol ${p.name} has the name of a generated package`);
    if (plugins.findIndex((q) => q.name === p.name) < i) usage(`--plugin ${p.plugin!.arg}: its protocol ${p.name} has the name of another --plugin's (rename one's \`protocol\` line)`);
  });
  // A plugin's protocol runs anyway: naming it in --protocol too is not an error.
  for (const p of values.protocol ?? []) {
    if (!names.includes(p) && !plugins.some((q) => q.name === p)) usage(`${p} is not a crash-proven generated protocol (have: ${names.join(", ")})`);
  }
  const protocols = [...(values.protocol ? proven.filter((p) => values.protocol!.includes(p.name)) : pluginDirs.length > 0 ? [] : proven), ...plugins];
  let apps: AppCase[];
  try {
    apps = values.app ? values.app.map(appCase) : [...APPS];
  } catch (e) {
    usage(e instanceof Error ? e.message : String(e));
  }
  for (const p of protocols) protocolDir(p); // transpile once, before the runs race for it

  const cases: { protocol: RealProtocol; app: AppCase; seed: number; kind: RunKind }[] = [];
  const skipped: string[] = [];
  for (const protocol of protocols) {
    for (const app of apps) {
      const why = skipFor(protocol, app);
      if (why !== null) skipped.push(`${protocol.name} × ${app.name}: ${why}`);
      else {
        for (let i = 0; i < runs; i++) cases.push({ protocol, app, seed: seed0 + i, kind: "within" });
        if (hasFiniteTolerance(protocol)) for (let i = 0; i < beyondRuns; i++) cases.push({ protocol, app, seed: seed0 + i, kind: "beyond" });
      }
    }
  }
  if (cases.length === 0) usage("nothing to run");

  const tty = process.stdout.isTTY === true;
  const bar = new cliProgress.SingleBar(
    { format: "real campaign [{bar}] {value}/{total} runs | kills {kills} | violations {violations} | {cell}", noTTYOutput: !tty, notTTYSchedule: 10_000, hideCursor: tty },
    cliProgress.Presets.shades_classic,
  );
  const tallies = new Map<string, Tally>();
  const failures: CrashRun[] = [];
  let kills = 0;
  const started = Date.now();
  const load0 = loadavg()[0]!;
  let loadMax = load0;
  bar.start(cases.length, 0, { kills: 0, violations: 0, cell: "" });

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const c = cases[next++]!;
      const r = await crashRun(c.protocol, c.app, c.seed, 4, extraKills, c.kind);
      loadMax = Math.max(loadMax, loadavg()[0]!);
      const key = `${c.protocol.name}|${c.protocol.family}|${c.app.name}`;
      const t = tallies.get(key) ?? empty();
      tallies.set(key, t);
      t.runs++;
      t.kills += r.fired;
      t.recoveries += r.result.recoveries.length;
      t.duringRecovery += r.killedDuringReplay ? 1 : 0;
      t.rollbacks += r.result.rollbacks.length;
      t.survivorRollbacks += r.survivorRollbacks;
      t.beyond += c.kind === "beyond" ? 1 : 0;
      t.unrecoverable += r.unrecoverable ? 1 : 0;
      t.stalls += r.stalled ? 1 : 0;
      kills += r.fired;
      if (r.violation !== null) {
        t.violations++;
        failures.push(r);
        bar.stop();
        // The launcher's whole stderr (kills, restarts, protocol notes), to diagnose without a rerun: hangs are timing-dependent.
        const dir = join(ROOT, ".egida-tmp", "real-campaign");
        mkdirSync(dir, { recursive: true });
        const log = join(dir, `${c.protocol.name}-${c.app.name}-seed${c.seed}-${Date.now()}.log`);
        writeFileSync(log, `${r.result.command}\n\n${r.result.stderr}\n`);
        process.stdout.write(`VIOLATION ${c.protocol.name} × ${c.app.name} seed ${c.seed}${c.kind === "beyond" ? " (beyond tolerance)" : ""}: ${r.violation}\n  ${r.result.command}\n  stderr: ${log}\n`);
        bar.start(cases.length, bar.getProgress() * cases.length, { kills, violations: failures.length, cell: key });
      }
      bar.increment(1, { kills, violations: failures.length, cell: `${c.protocol.name} × ${c.app.name}` });
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, cases.length) }, worker));
  bar.stop();

  const HEAD = ["runs", "beyond f", "kills", "recoveries", "in recovery", "rollbacks", "of survivors", "unrecoverable", "stalls", "violations"];
  const counts = (t: Tally): number[] => [t.runs, t.beyond, t.kills, t.recoveries, t.duringRecovery, t.rollbacks, t.survivorRollbacks, t.unrecoverable, t.stalls, t.violations];
  const sorted = [...tallies].sort(([a], [b]) => a.localeCompare(b));
  process.stdout.write(`\n${formatTable(["protocol", "family", "app", ...HEAD], sorted.map(([k, t]) => [...k.split("|"), ...counts(t)]), 3)}\n`);
  const families = new Map<string, Tally[]>();
  for (const [k, t] of sorted) {
    const fam = k.split("|")[1]!;
    families.set(fam, [...(families.get(fam) ?? []), t]);
  }
  const policy = (fam: string): string => {
    const ps = protocols.filter((p) => p.family === fam).map((p) => {
      const k = killPolicy(p);
      return k.maxRanks !== undefined ? `≤ ${k.maxRanks} ranks per run` : k.f > 0 ? "non-adjacent ranks" : "any ranks";
    });
    return [...new Set(ps)].join(" / ");
  };
  const famRows = [...families].sort(([a], [b]) => a.localeCompare(b)).map(([fam, ts]) => [fam, policy(fam), ...counts(sumCounts(ts, empty))]);
  process.stdout.write(`\n${formatTable(["family", "killed", ...HEAD], famRows, 2)}\n`);
  const all = sumCounts(tallies.values(), empty);
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  process.stdout.write(
    `\n${all.runs} runs (${all.beyond} beyond tolerance, ${all.unrecoverable} of them unrecoverable), ${all.kills} real SIGKILLs, ${all.stalls} stalled, ${all.recoveries} recoveries (${all.duringRecovery} runs killed a rank again during its recovery), ` +
      `${all.rollbacks} rollbacks (${all.survivorRollbacks} of processes that had not failed), ${all.violations} violations; ` +
      `${protocols.length} protocol(s) × ${apps.length} app(s), ${secs} s on ${hostname()} (${cpus().length} CPUs, node ${process.version}, load ${load0.toFixed(1)} at start, max ${loadMax.toFixed(1)})\n`,
  );
  for (const s of skipped) process.stdout.write(`not run, outside the protocol's claims: ${s}\n`);
  for (const f of failures) {
    process.stdout.write(
      `reproduce: npm run campaign:real -- ${f.protocol.plugin === undefined ? `--protocol ${f.protocol.name}` : `--plugin ${f.protocol.plugin.arg}`} --app ${f.app.name} ${f.kind === "beyond" ? "--runs 0 --beyond 1" : "--runs 1 --beyond 0"} --seed ${f.seed}${extraKills !== 2 ? ` --kills ${extraKills}` : ""}\n` +
        `       or: ${f.result.command}   (time kills are wall-clock: close, not exact)\n`,
    );
  }
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`real-campaign: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(70);
  },
);
