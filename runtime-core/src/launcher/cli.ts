/**
 * egida-run's command line. Every mistake is a usage error: one line on
 * stderr, exit code 2, no stack trace.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { DISCOVER_KINDS, discover, type DiscoverKind } from "./discover.js";
import { parseKillSpec } from "./kill-spec.js";
import type { KillSpec, LaunchOptions, TlsFiles } from "./options.js";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export type CliResult = { readonly kind: "run"; readonly options: LaunchOptions } | { readonly kind: "exit"; readonly code: number };

function int(name: string, min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `${name} must be an integer >= ${min}` : `${name} must be an integer in ${min}..${max}`);
    }
    return n;
  };
}

/** Where `--discover` reads from: the process's environment and host name (tests pass their own). */
export interface CliEnv {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly hostname: string;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** `egida-run --help` lists them; docs/runtime.md has the full table. */
const EXIT_CODE_HELP = `
Exit codes:
  0    every rank done, outputs released
  1    application error (init/onStart/onMessage threw)
  2    usage error (flags, app or protocol cannot be loaded)
  3    unrecoverable (e.g. more than f concurrent failures, damaged storage)
  4    output retraction (an output regenerated differently after a crash)
  5    timeout (--timeout, stall, --finish-timeout)
  6    internal error (a bug in egida or the protocol)
  7    environment (disk full, read-only, no permission, missing directory or file)
  8    non-determinism (a recovering rank re-sent a message with other contents)
  130  interrupted by SIGINT, 143 by SIGTERM (storage kept)`;

/** This package's version (src/launcher/cli.ts and dist/launcher/cli.js both sit two levels below package.json). */
export function runtimeCoreVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof pkg.version === "string" ? pkg.version : "0.0.0";
}

function program(write: (s: string) => void): Command {
  return new Command("egida-run")
    .description("Run a message-passing application on N ranks under a rollback-recovery protocol.")
    .version(runtimeCoreVersion(), "-V, --version", "print the version (of @egida/runtime-core)")
    .usage("-n N --protocol <dir|package|none> [options] APP [-- APP_ARGS...]")
    .argument("<app>", "application module (.mjs/.js/.ts) whose default export is { init, onStart?, onMessage }")
    .argument("[appArgs...]", "arguments passed to init(args) (put them after --)")
    .addOption(new Option("-n, --np <N>", "number of ranks").argParser(int("-n", 1)))
    .requiredOption("--protocol <p>", "protocol: a generated package directory, an installed package name, or `none`")
    .option("--storage-dir <dir>", "stable storage root (logs, checkpoints); default a fresh temp dir")
    .option("--keep-storage", "keep the default temp storage after a successful run too (it is always kept, and named, after a failure)")
    .option("--output <file>", "write one JSON line {rank, data} per committed output")
    .option("--kill <spec>", "RANK@Kmsgs: SIGKILL RANK when its delivery count reaches K; RANK@Tms: T ms after launch (repeatable)", collect, [])
    .option("--sim", "run on the simulated network in one process (memory storage)")
    .addOption(new Option("--seed <S>", "simulation seed").argParser(int("--seed", 0)))
    .addOption(new Option("--f <F>", "concurrent failures to tolerate (default: the protocol's)").argParser(int("--f", 0)))
    .addOption(new Option("--timeout <ms>", "fail the job if it is not done after this long").argParser(int("--timeout", 1)))
    .addOption(
      new Option(
        "--stall-timeout <ms>",
        "fail (exit 5, with what every rank is doing) when the job makes no progress for this long: no rank delivers, sends or outputs anything, " +
          "changes phase, or uses >= 10% of a core (a stopped or hung rank does not); 0 disables (default: 10000, 3000 once a rank lost its state)",
      ).argParser(int("--stall-timeout", 0)),
    )
    .addOption(new Option("--restart-delay <ms>", "watchdog delay before restarting a dead rank").default(100).argParser(int("--restart-delay", 0)))
    .addOption(
      new Option("--finish-timeout <ms>", "once every rank is done, fail if the ranks have not released their pending outputs after this long (default: 30000)").argParser(
        int("--finish-timeout", 1),
      ),
    )
    .option("--host <addr>", "address the ranks listen on (default 127.0.0.1; single-rank mode: this rank's --peers host, or 0.0.0.0 with --discover)")
    .option("--trace <file>", "write the run's trace to FILE (JSONL: sends, deliveries, checkpoints, kills, recoveries; view it with egida-view)")
    .option("-q, --quiet", "do not echo outputs on stdout")
    .option("--strict", "make Math.random() and Date.now() throw inside the app's handlers (read them with ctx.read)")
    .option("-v, --verbose", "also show protocol internals (recovery steps, checkpoint rounds) and the ranks' routine storage and connection events (as EGIDA_DEBUG=1)")
    .addOption(new Option("--rank <R>", "single-rank mode: run only rank R (with --peers)").argParser(int("--rank", 0)))
    .option("--peers <list>", "single-rank mode: host:port of every rank, in rank order")
    .option("--secret-file <file>", "single-rank mode: file holding the job's HMAC secret (else env EGIDA_SECRET)")
    .addOption(new Option("--incarnation <I>", "single-rank mode: incarnation (default: derived from the storage dir)").argParser(int("--incarnation", 0)))
    .addOption(
      new Option("--discover <kind>", "single-rank mode: take rank, size and peers from the scheduler (with --port; docs/deploy.md)").choices(DISCOVER_KINDS as string[]),
    )
    .addOption(new Option("--port <P>", "with --discover: the port every rank listens on").argParser(int("--port", 1, 65535)))
    .option("--k8s-job <name>", "--discover kubernetes: the Indexed Job's name (else env EGIDA_K8S_JOB, else the pod's host name minus -INDEX)")
    .option("--k8s-service <name>", "--discover kubernetes: the headless Service (else env EGIDA_K8S_SERVICE)")
    .option("--shared-dir <dir>", "root of the nfs-disk medium, shared between hosts (default <storage-dir>/shared)")
    .option("--tls-cert <file>", "single-rank mode: this rank's TLS certificate (PEM), with --tls-key and --tls-ca")
    .option("--tls-key <file>", "single-rank mode: the private key of --tls-cert (PEM)")
    .option("--tls-ca <file>", "single-rank mode: the CA (PEM) every rank's certificate must be signed by")
    .addHelpText("after", EXIT_CODE_HELP)
    .exitOverride()
    .configureOutput({ writeErr: write, writeOut: (s) => process.stdout.write(s) })
    .showHelpAfterError(false);
}

interface RawOpts {
  np?: number;
  protocol: string;
  storageDir?: string;
  keepStorage?: boolean;
  output?: string;
  kill: string[];
  sim?: boolean;
  seed?: number;
  f?: number;
  timeout?: number;
  stallTimeout?: number;
  finishTimeout?: number;
  restartDelay: number;
  host?: string;
  trace?: string;
  quiet?: boolean;
  verbose?: boolean;
  strict?: boolean;
  rank?: number;
  peers?: string;
  secretFile?: string;
  incarnation?: number;
  discover?: DiscoverKind;
  port?: number;
  k8sJob?: string;
  k8sService?: string;
  sharedDir?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

/**
 * Parse argv (without node and script). Returns what to run, or an exit code
 * (help, version, usage errors); messages go to `writeErr`.
 */
export function parseCli(
  argv: readonly string[],
  writeErr: (s: string) => void = (s) => process.stderr.write(s),
  env: CliEnv = { env: process.env, hostname: hostname() },
): CliResult {
  const cmd = program(writeErr);
  try {
    cmd.parse([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help" || e.code === "commander.version") {
        return { kind: "exit", code: 0 };
      }
      writeErr("Run egida-run --help for usage.\n");
      return { kind: "exit", code: 2 };
    }
    throw e;
  }
  try {
    return { kind: "run", options: validate(cmd.opts<RawOpts>(), cmd.processedArgs as [string, string[]], env) };
  } catch (e) {
    if (e instanceof UsageError) {
      writeErr(`error: ${e.message}\nRun egida-run --help for usage.\n`);
      return { kind: "exit", code: 2 };
    }
    throw e;
  }
}

function validate(o: RawOpts, args: [string, string[]], env: CliEnv): LaunchOptions {
  const [app, appArgs] = args;
  const common = {
    protocol: o.protocol,
    app,
    appArgs: appArgs ?? [],
    storageDir: o.storageDir,
    keepStorage: o.keepStorage === true,
    sharedDir: o.sharedDir,
    output: o.output,
    f: o.f,
    quiet: o.quiet === true,
    verbose: o.verbose === true,
    traceFile: o.trace === undefined ? undefined : traceFileOption(o.trace),
    strict: o.strict === true,
  };
  const tls = tlsFiles(o);
  if (o.discover !== undefined) return { ...common, ...singleRankCommon(o, tls), ...discovered(o, env) };
  if (o.port !== undefined || o.k8sJob !== undefined || o.k8sService !== undefined) {
    throw new UsageError("--port, --k8s-job and --k8s-service go with --discover kubernetes|slurm (with --rank, the ports are in --peers)");
  }
  if (o.rank !== undefined || o.peers !== undefined) {
    if (o.rank === undefined || o.peers === undefined) throw new UsageError("single-rank mode needs both --rank R and --peers host:port,... (or --discover kubernetes|slurm)");
    const peers = o.peers.split(",").map((p, i) => parsePeer(p, i));
    if (o.np !== undefined && o.np !== peers.length) throw new UsageError(`-n ${o.np} disagrees with --peers (${peers.length} entries)`);
    if (o.rank >= peers.length) throw new UsageError(`--rank ${o.rank} is not in 0..${peers.length - 1}`);
    return { ...common, ...singleRankCommon(o, tls), rank: o.rank, peers, bindHost: o.host ?? peers[o.rank]!.host };
  }
  if (o.np === undefined) throw new UsageError("missing -n N (number of ranks)");
  if (o.secretFile !== undefined || o.incarnation !== undefined) throw new UsageError("--secret-file and --incarnation are single-rank options (with --rank and --peers)");
  if (tls !== undefined) throw new UsageError("--tls-cert/--tls-key/--tls-ca protect links between hosts: use them in single-rank mode (--rank/--peers or --discover); the launcher's ranks talk over one machine");
  if (o.sharedDir !== undefined && o.sim) throw new UsageError("--shared-dir has no effect with --sim (the simulation keeps storage in memory)");
  if (o.seed !== undefined && !o.sim) throw new UsageError("--seed only applies with --sim");
  if (o.keepStorage === true && o.sim) throw new UsageError("--keep-storage: --sim keeps its storage in memory; there is nothing to keep");
  const kills: KillSpec[] = [];
  for (const k of o.kill) {
    const spec = parseKillSpec(k, o.np);
    if (typeof spec === "string") throw new UsageError(spec);
    kills.push(spec);
  }
  return {
    ...common,
    mode: o.sim ? "sim" : "tcp",
    size: o.np,
    kills,
    seed: o.seed ?? 1,
    timeoutMs: o.timeout,
    stallTimeoutMs: o.stallTimeout,
    restartDelayMs: o.restartDelay,
    ...(o.finishTimeout !== undefined ? { finishTimeoutMs: o.finishTimeout } : {}),
    host: o.host ?? "127.0.0.1",
  };
}

/** What single-rank mode takes whichever way its rank and peers are given; refuses the launcher's flags. */
function singleRankCommon(o: RawOpts, tls: TlsFiles | undefined): { mode: "single"; secretFile?: string; incarnation?: number; tls?: TlsFiles } {
  if (o.sim) throw new UsageError("--sim runs the whole job in one process; it cannot be combined with single-rank mode (--rank or --discover)");
  if (o.kill.length > 0) throw new UsageError("--kill needs the launcher's watchdog; in single-rank mode kill the process yourself");
  return { mode: "single", secretFile: o.secretFile, incarnation: o.incarnation, ...(tls ? { tls } : {}) };
}

/** `--discover`: rank and peers from the environment (discover.ts); a fault is a usage error. */
function discovered(o: RawOpts, env: CliEnv): { rank: number; peers: { host: string; port: number }[]; bindHost: string; discovered: string } {
  const kind = o.discover!;
  if (o.rank !== undefined || o.peers !== undefined) throw new UsageError(`--discover ${kind} finds the rank and the peers itself: drop --rank and --peers`);
  if (o.port === undefined) throw new UsageError(`--discover ${kind} needs --port P, the port every rank listens on`);
  if (kind === "slurm" && (o.k8sJob !== undefined || o.k8sService !== undefined)) throw new UsageError("--k8s-job and --k8s-service go with --discover kubernetes");
  const d = discover({ kind, port: o.port, size: o.np, k8sJob: o.k8sJob, k8sService: o.k8sService, env: env.env, hostname: env.hostname });
  if (typeof d === "string") throw new UsageError(d);
  // A peer name may resolve to an address this host does not own (a Service's, a NAT's): listen on every interface.
  return { rank: d.rank, peers: [...d.peers], bindHost: o.host ?? "0.0.0.0", discovered: d.source };
}

/** The three TLS files, all or none. */
function tlsFiles(o: RawOpts): TlsFiles | undefined {
  const given = [o.tlsCert, o.tlsKey, o.tlsCa].filter((v) => v !== undefined).length;
  if (given === 0) return undefined;
  if (given !== 3) {
    const missing = [o.tlsCert === undefined ? "--tls-cert" : "", o.tlsKey === undefined ? "--tls-key" : "", o.tlsCa === undefined ? "--tls-ca" : ""].filter(Boolean);
    throw new UsageError(`TLS needs all of --tls-cert, --tls-key and --tls-ca; missing ${missing.join(" and ")}`);
  }
  return { cert: o.tlsCert!, key: o.tlsKey!, ca: o.tlsCa! };
}

function traceFileOption(file: string): string {
  if (file === "") throw new UsageError("--trace needs a file name");
  if (existsSync(file) && statSync(file).isDirectory()) throw new UsageError(`--trace ${file}: is a directory (the trace is one file, e.g. --trace run.trace.jsonl)`);
  return file;
}

function parsePeer(text: string, i: number): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port > 0 && port < 65536)) throw new UsageError(`--peers entry ${i} "${text}": expected host:port`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, "$1"), port };
}
