/**
 * `npm run campaign:real -- [--runs N] [--protocol P]... [--app A]... [--seed S] [--jobs J] [--kills K]`
 *
 * The long real-process campaign (issue 5 §5): for every crash-proven
 * generated protocol (docs/protocols.md) × sample app, N runs under
 * `egida-run` over TCP, each with a seeded kill schedule (test/realproc/lib/
 * schedule.ts: random ranks at random delivery counts, the same rank twice
 * with the second kill during its replay, a launcher SIGKILL at a random
 * time), judged against the failure-free run. Prints a progress bar, then a
 * table (runs, kills, recoveries, kills during replay, rollbacks, violations)
 * and exits 1 on any violation, with the command lines that reproduce it.
 */
import { cpus, hostname } from "node:os";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { APPS, appCase, type AppCase } from "../test/realproc/lib/apps.js";
import { crashRun, type CrashRun } from "../test/realproc/lib/job.js";
import { builtProtocol, crashProvenProtocols } from "../test/realproc/lib/protocols.js";

interface Tally {
  runs: number;
  kills: number;
  recoveries: number;
  duringReplay: number;
  rollbacks: number;
  violations: number;
}

const empty = (): Tally => ({ runs: 0, kills: 0, recoveries: 0, duringReplay: 0, rollbacks: 0, violations: 0 });

function usage(msg: string): never {
  process.stderr.write(`real-campaign: ${msg}\nusage: tsx scripts/real-campaign.ts [--runs N] [--protocol P]... [--app A]... [--seed S] [--jobs J] [--kills K]\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "2" },
      protocol: { type: "string", multiple: true },
      app: { type: "string", multiple: true },
      seed: { type: "string", default: "1" },
      jobs: { type: "string", default: "2" },
      kills: { type: "string", default: "2" },
    },
    strict: true,
  });
  const runs = Number(values.runs);
  const seed0 = Number(values.seed);
  const jobs = Number(values.jobs);
  const extraKills = Number(values.kills);
  if (!(Number.isInteger(runs) && runs > 0 && Number.isInteger(seed0) && Number.isInteger(jobs) && jobs > 0 && Number.isInteger(extraKills) && extraKills >= 0)) {
    usage("--runs, --jobs > 0, --kills >= 0 and --seed must be integers");
  }
  const proven = crashProvenProtocols();
  const protocols = values.protocol ?? proven;
  for (const p of protocols) if (!proven.includes(p)) usage(`${p} is not a crash-proven generated protocol (have: ${proven.join(", ")})`);
  let apps: AppCase[];
  try {
    apps = values.app ? values.app.map(appCase) : [...APPS];
  } catch (e) {
    usage(e instanceof Error ? e.message : String(e));
  }
  for (const p of protocols) builtProtocol(p); // transpile once, before the runs race for it

  const cases: { protocol: string; app: AppCase; seed: number }[] = [];
  for (const protocol of protocols) for (const app of apps) for (let i = 0; i < runs; i++) cases.push({ protocol, app, seed: seed0 + i });

  const tty = process.stdout.isTTY === true;
  const bar = new cliProgress.SingleBar(
    { format: "real campaign [{bar}] {value}/{total} runs | kills {kills} | violations {violations} | {cell}", noTTYOutput: !tty, notTTYSchedule: 10_000, hideCursor: tty },
    cliProgress.Presets.shades_classic,
  );
  const tallies = new Map<string, Tally>();
  const failures: CrashRun[] = [];
  let kills = 0;
  const started = Date.now();
  bar.start(cases.length, 0, { kills: 0, violations: 0, cell: "" });

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const c = cases[next++]!;
      const r = await crashRun(c.protocol, c.app, c.seed, 4, extraKills);
      const key = `${c.protocol}|${c.app.name}`;
      const t = tallies.get(key) ?? empty();
      tallies.set(key, t);
      t.runs++;
      t.kills += r.fired;
      t.recoveries += r.result.recoveries.length;
      t.duringReplay += r.killedDuringReplay ? 1 : 0;
      t.rollbacks += r.result.summary?.rollbacks ?? 0;
      kills += r.fired;
      if (r.violation !== null) {
        t.violations++;
        failures.push(r);
        bar.stop();
        process.stdout.write(`VIOLATION ${c.protocol} × ${c.app.name} seed ${c.seed}: ${r.violation}\n  ${r.result.command}\n`);
        bar.start(cases.length, bar.getProgress() * cases.length, { kills, violations: failures.length, cell: key });
      }
      bar.increment(1, { kills, violations: failures.length, cell: `${c.protocol} × ${c.app.name}` });
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, cases.length) }, worker));
  bar.stop();

  process.stdout.write(`\n${table(tallies)}\n`);
  const all = [...tallies.values()].reduce((s, t) => {
    for (const k of Object.keys(s) as (keyof Tally)[]) s[k] += t[k];
    return s;
  }, empty());
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  process.stdout.write(
    `\n${all.runs} runs, ${all.kills} real SIGKILLs, ${all.recoveries} recoveries (${all.duringReplay} runs killed a rank again during its replay), ` +
      `${all.rollbacks} rollbacks, ${all.violations} violations; ${protocols.length} protocol(s) × ${apps.length} app(s), ${secs} s on ${hostname()} (${cpus().length} CPUs, node ${process.version})\n`,
  );
  for (const f of failures) {
    process.stdout.write(
      `reproduce: npx tsx scripts/real-campaign.ts --protocol ${f.protocol} --app ${f.app.name} --runs 1 --seed ${f.seed}\n` +
        `       or: ${f.result.command}   (time kills are wall-clock: close, not exact)\n`,
    );
  }
  return failures.length > 0 ? 1 : 0;
}

function table(tallies: Map<string, Tally>): string {
  const head = ["protocol", "app", "runs", "kills", "recoveries", "in replay", "rollbacks", "violations"];
  const rows = [...tallies].sort(([a], [b]) => a.localeCompare(b)).map(([k, t]) => {
    const [p, a] = k.split("|") as [string, string];
    return [p, a, t.runs, t.kills, t.recoveries, t.duringReplay, t.rollbacks, t.violations].map(String);
  });
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string => r.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join("  ");
  return [line(head), w.map((n) => "-".repeat(n)).join("  "), ...rows.map(line)].join("\n");
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`real-campaign: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(70);
  },
);
