/**
 * `npm run campaign -- [--runs N] [--protocol P] [--plugin DIR]... [--app A] [--seed S] [--schedule JSON [--trace FILE]] [--backend B]`
 *
 * The seeded simulated crash campaign (test/conformance/): seeds × protocols
 * × apps, every run checked by the oracles, with a progress bar and a summary
 * table per protocol × app. Exits 1 on any violation, with one shrunk
 * reproduction command per failing run; 2 on bad usage.
 *
 * `--plugin DIR` (repeatable; `--plugins`: every example in examples/plugins/)
 * adds the protocol a plugin directory's example.egida compiles to with
 * `egida-gen compile` from that directory (test/conformance/plugin-protocols.ts),
 * with the campaign's timer periods, run on the same apps, schedules and
 * oracles as the built-in specs. A plugin medium runs on the simulator's
 * memory storage, simulated by its `stable` trait (synced records survive a
 * crash, an unsynced tail does not), as `egida-run --sim` does; the plugin's
 * own store is not opened here. It does real file I/O and fdatasync outside
 * virtual time: a simulated crash kills no process, so neither its unsynced
 * tail (in the page cache) nor a dead incarnation's writes still in flight
 * would be lost, and I/O latency would make a seed's run unreproducible. The
 * store itself is proven by the real campaign (`npm run campaign:real --
 * --plugin DIR`: SIGKILLs, its files) and its own tests. A plugin block is
 * spliced into the protocol, so the simulator runs it as it is.
 */
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { CONFORMANCE_APPS, findApp } from "../test/conformance/apps.js";
import {
  CampaignContext,
  addToTally,
  describeCase,
  emptyTally,
  kindFor,
  runCase,
  scheduleFor,
  skipReason,
  type CaseOutcome,
  type Tally,
} from "../test/conformance/campaign.js";
import { BACKENDS, NONE_ENTRY, discoverProtocols, type Backend, type ProtocolEntry } from "../test/conformance/protocols.js";
import { PLUGIN_EXAMPLES, PluginSpecError, pluginEntries } from "../test/conformance/plugin-protocols.js";
import { SCHEDULE_KINDS, parseSchedule, type ScheduleKind } from "../test/conformance/schedule.js";
import { formatTable, sumCounts } from "./lib/summary-table.js";

const USAGE = `usage: npm run campaign -- [options]
  --runs N           seeds per protocol × app (default 20)
  --protocol P       only these protocols (comma list; "none" is the no-recovery baseline, excluded by default)
  --plugin DIR       also the protocol DIR/example.egida (or DIR itself, a .egida file) compiles to with
                     its egida.config.json (repeatable); without --protocol, only the plugins' protocols run
  --plugins          --plugin for each of ${PLUGIN_EXAMPLES.join(", ")}
  --app A            only these apps (comma list): ${CONFORMANCE_APPS.map((a) => a.name).join(", ")}
  --seed S           first seed (default 1); with --schedule, the exact seed
  --schedule JSON    run exactly this crash schedule (one run per protocol × app)
  --trace FILE       with --schedule, one protocol and one app: write the run's trace
                     (docs/trace.md; view it with npx egida-view FILE)
  --backend B        ${BACKENDS.join(" | ")} (comma list; default inline)
  --kinds K          schedule kinds (comma list; default all): ${SCHEDULE_KINDS.join(", ")}
  --storage          also check bounded storage (meaningful for long runs)
  --real-replication \`volatile memory of processes\` on runtime-core's real replicated log and
                     checkpoint store (copies die with their holders) instead of the stand-in
  --wire W           frames | tcp (default frames): tcp runs every rank's real TcpTransport
                     (handshake, re-dial, failure detection) over simulated sockets
  --no-shrink        report failures without shrinking their schedules`;

function fail(msg: string): never {
  process.stderr.write(`campaign: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function list(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(",").map((s) => s.trim()).filter(Boolean);
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        runs: { type: "string" },
        protocol: { type: "string" },
        plugin: { type: "string", multiple: true },
        plugins: { type: "boolean" },
        app: { type: "string" },
        seed: { type: "string" },
        schedule: { type: "string" },
        trace: { type: "string" },
        backend: { type: "string" },
        kinds: { type: "string" },
        storage: { type: "boolean" },
        "real-replication": { type: "boolean" },
        "no-shrink": { type: "boolean" },
        wire: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const wire = values.wire ?? "frames";
  if (wire !== "frames" && wire !== "tcp") fail(`--wire: expected frames or tcp, got ${values.wire}`);
  const runs = values.runs === undefined ? 20 : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) fail(`--runs: expected a positive integer, got ${values.runs}`);
  const seed0 = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed0) || seed0 < 0) fail(`--seed: expected a non-negative integer, got ${values.seed}`);
  const backends = (list(values.backend) ?? ["inline"]) as Backend[];
  for (const b of backends) if (!(BACKENDS as readonly string[]).includes(b)) fail(`--backend: unknown ${b}`);
  const kinds = (list(values.kinds) ?? [...SCHEDULE_KINDS]) as ScheduleKind[];
  for (const k of kinds) if (!(SCHEDULE_KINDS as readonly string[]).includes(k)) fail(`--kinds: unknown ${k}`);
  let given;
  try {
    given = values.schedule === undefined ? undefined : parseSchedule(values.schedule);
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
  let apps;
  try {
    apps = (list(values.app) ?? CONFORMANCE_APPS.map((a) => a.name)).map(findApp);
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }

  const wanted = list(values.protocol);
  const pluginDirs = [...(values.plugins === true ? PLUGIN_EXAMPLES : []), ...(values.plugin ?? [])];
  let plugins;
  try {
    plugins = await pluginEntries(pluginDirs, backends);
  } catch (e) {
    if (e instanceof PluginSpecError) fail(e.message);
    throw e;
  }
  const found = await discoverProtocols({ backends });
  for (const p of plugins.protocols) {
    if (found.protocols.some((b) => b.name === p.name)) fail(`--plugin ${p.plugin}: its protocol ${p.name} has the name of a built-in spec`);
    if (plugins.protocols.some((q) => q.name === p.name && q.plugin !== p.plugin)) fail(`--plugin ${p.plugin}: its protocol ${p.name} has the name of another --plugin's (rename one's \`protocol\` line)`);
  }
  let protocols: ProtocolEntry[] = wanted === undefined && pluginDirs.length > 0 ? [] : [...found.protocols];
  if (wanted?.includes("none")) protocols.push(NONE_ENTRY);
  if (wanted) {
    protocols = protocols.filter((p) => wanted.includes(p.name));
    for (const w of wanted) {
      // A plugin's protocol runs anyway: naming it too is not an error.
      if (!protocols.some((p) => p.name === w) && !plugins.protocols.some((p) => p.name === w)) {
        const why = found.unsupported.find((u) => u.name === w)?.why;
        fail(`--protocol ${w}: ${why ?? `not found (known: ${found.protocols.map((p) => p.name).filter((n, i, a) => a.indexOf(n) === i).join(", ")}, none)`}`);
      }
    }
  }
  protocols.push(...plugins.protocols);
  if (protocols.length === 0) fail("no protocol to run");
  if (!wanted && pluginDirs.length === 0 && found.unsupported.length > 0) {
    process.stdout.write(`not built by the block library yet (skipped): ${found.unsupported.map((u) => u.name).join(", ")}\n`);
  }

  const perCell = given ? 1 : runs;
  const total = protocols.length * apps.length * perCell;
  if (values.trace !== undefined && (given === undefined || total !== 1)) {
    fail("--trace FILE traces one run: give --schedule, one --protocol and one --app (a reproduce: line has all three)");
  }
  const tty = process.stdout.isTTY === true;
  const bar = new cliProgress.SingleBar(
    { format: "campaign [{bar}] {value}/{total} runs | {cell} | violations {violations}", noTTYOutput: !tty, notTTYSchedule: 5000, hideCursor: tty },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { cell: "", violations: 0 });
  const ctx = new CampaignContext();
  const tallies = new Map<string, Tally>();
  const failures: CaseOutcome[] = [];
  const started = Date.now();
  const unbuilt: string[] = [];
  const skipped: string[] = [];
  for (const e of protocols) {
    let factory;
    try {
      factory = await e.load();
    } catch (err) {
      // A back end that cannot build this spec yet is reported, not counted as a recovery violation.
      unbuilt.push(`${e.name} (${e.backend}): ${err instanceof Error ? err.message : String(err)}`);
      bar.increment(apps.length * perCell);
      continue;
    }
    for (const a of apps) {
      const skip = skipReason(e, a);
      if (skip !== null) {
        // Outside what the protocol claims (not a violation, not a pass): reported, not counted.
        const note = `${e.name} × ${a.name}: ${skip}`;
        if (!skipped.includes(note)) skipped.push(note);
        bar.increment(perCell);
        continue;
      }
      const key = `${e.name}${backends.length > 1 ? ` (${e.backend})` : ""}|${a.name}`;
      const t = tallies.get(key) ?? emptyTally();
      tallies.set(key, t);
      for (let i = 0; i < perCell; i++) {
        const seed = seed0 + i;
        const kind = given ? "given" : kindFor(i, kinds);
        const schedule = given ?? (await scheduleFor(ctx, e, factory, a, seed, kind as ScheduleKind, wire));
        const c = await runCase(ctx, e, factory, a, seed, kind, schedule, { shrink: !values["no-shrink"], boundedStorage: values.storage ?? false, realReplication: values["real-replication"] ?? false, trace: values.trace, wire });
        addToTally(t, c);
        if (c.violations.length > 0) {
          failures.push(c);
          bar.stop();
          process.stdout.write(`${describeCase(c)}\n`);
          bar.start(total, bar.getProgress() * total, { cell: `${e.name} × ${a.name}`, violations: failures.length });
        }
        bar.increment(1, { cell: `${e.name} × ${a.name}`, violations: failures.length });
      }
    }
  }
  bar.stop();
  process.stdout.write(`\n${table(tallies)}\n`);
  const all = sumCounts(tallies.values(), emptyTally);
  process.stdout.write(
    `\n${all.runs} runs, ${all.crashes} crashes injected, ${all.stalls} stalled, ${protocols.length} protocol build(s) × ${apps.length} app(s), ${failures.length} failing run(s), ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  for (const u of unbuilt) process.stdout.write(`not run, does not build: ${u}\n`);
  for (const n of plugins.notApplicable) process.stdout.write(`not run: ${n}\n`);
  for (const k of skipped) process.stdout.write(`not run, outside the protocol's claims: ${k}\n`);
  for (const c of failures) process.stdout.write(`reproduce: ${c.repro ?? "(not shrunk)"}\n`);
  if (values.trace !== undefined) process.stdout.write(`trace: ${values.trace} (npx egida-view ${values.trace} --out run.html)\n`);
  return failures.length > 0 || ((wanted !== undefined || pluginDirs.length > 0) && unbuilt.length > 0) ? 1 : 0;
}

function table(tallies: Map<string, Tally>): string {
  const rows = [...tallies].map(([k, t]) => [...(k.split("|") as [string, string]), t.runs, t.crashes, t.recoveries, t.rollbacks, t.unrecoverable, t.stalls, t.violations, t.control]);
  return formatTable(["protocol", "app", "runs", "crashes", "recoveries", "rollbacks", "unrecoverable", "stalls", "violations", "control frames"], rows);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`campaign: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(70);
  },
);
