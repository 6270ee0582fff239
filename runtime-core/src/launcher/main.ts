/**
 * egida-run entry point (bin/egida-run.js imports this file).
 */
import { exitCodeOf, describeFailure, AppLoadError, EXIT_CODES } from "../host/errors.js";
import { describeEnvFault, environmentFault } from "../host/env-fault.js";
import { loadApp } from "../host/load-app.js";
import { parseCli } from "./cli.js";
import { checkTolerance, loadProtocol, ProtocolLoadError } from "./load-protocol.js";
import type { JobOptions, LaunchOptions } from "./options.js";
import { Reporter, formatSummary } from "./report.js";
import { runSimJob } from "./sim-job.js";
import { runTcpJob } from "./tcp-job.js";
import { runSingleRank } from "./single-rank.js";
import { endRecords, traceFsOp, traceHeader } from "../trace/job-trace.js";
import { JsonlFile } from "../trace/writer.js";

export async function main(argv: readonly string[]): Promise<number> {
  const cli = parseCli(argv);
  if (cli.kind === "exit") return cli.code;
  const o = cli.options;
  try {
    if (o.mode === "single") return await runSingleRank(o);
    if (o.mode === "sim") return await sim(o);
    return await runTcpJob(o);
  } catch (e) {
    // Expected setup failures get one line; anything else is a launcher bug and keeps its stack.
    if (e instanceof AppLoadError || e instanceof ProtocolLoadError) {
      process.stderr.write(`egida-run: error: ${e.message}\n`);
      return EXIT_CODES.usage;
    }
    // The launcher's own file operations (storage directory, --output, the temp dir) met a full,
    // read-only or forbidden file system.
    const env = environmentFault(e);
    if (env !== undefined) {
      process.stderr.write(`egida-run: ${describeEnvFault(env, -1)}\n`);
      return EXIT_CODES.environment;
    }
    process.stderr.write(`egida-run: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT_CODES.internal;
  }
}

async function sim(o: JobOptions & LaunchOptions): Promise<number> {
  const app = await loadApp(o.app);
  const proto = await loadProtocol(o.protocol);
  checkTolerance(o.size, o.f ?? proto.factory.defaultF, proto.factory.protocolName);
  const reporter = new Reporter({ output: o.output, quiet: o.quiet });
  for (const n of proto.notes) reporter.event(n);
  const traceFile = o.traceFile;
  const traceOut = traceFile ? traceFsOp(() => new JsonlFile(traceFile, "w")) : null;
  traceOut?.line(traceHeader({ mode: "sim", size: o.size, protocol: proto.factory.protocolName, app: o.app, kills: o.kills, seed: o.seed }));
  try {
    const res = await runSimJob({
      size: o.size,
      app,
      args: o.appArgs,
      protocol: proto.factory,
      seed: o.seed,
      f: o.f,
      kills: o.kills,
      restartDelayMs: o.restartDelayMs,
      timeoutMs: o.timeoutMs,
      stallTimeoutMs: o.stallTimeoutMs,
      finishTimeoutMs: o.finishTimeoutMs,
      strict: o.strict === true,
      onOutput: (out) => reporter.output(out.rank, out.payload),
      onEvent: (m) => reporter.event(m),
      runTrace: traceOut ? (r) => traceOut.line(r) : undefined,
    });
    const code = res.failure ? exitCodeOf(res.failure) : 0;
    if (traceOut) for (const r of endRecords(res.failure, code, res.virtualMs)) traceOut.line(r);
    if (res.failure) {
      // An environment fault (a full --output) names its own kind: no "error:" in front, as over TCP.
      if (res.failure.kind === "environment") reporter.event(describeFailure(res.failure));
      else reporter.error(describeFailure(res.failure));
      return code;
    }
    reporter.event(formatSummary(proto.factory.protocolName, res.ranks, res.virtualMs, "virtual ms"));
    return 0;
  } finally {
    reporter.close();
    traceOut?.close();
  }
}

