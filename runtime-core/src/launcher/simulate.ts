/**
 * `simulate`: the stable, test-friendly face of `egida-run --sim`.
 *
 * One call runs an application on N ranks of the simulated network under a
 * protocol, with kills written as on the command line (`"2@10msgs"`,
 * `"1@300ms"`), and returns each rank's committed outputs decoded as JSON
 * values, in the order the rank wrote them. An application's own tests compare a run with
 * kills to a failure-free one (`protocol: "none"`) with one `toEqual`.
 *
 * It wraps `runSimJob` (whose parameters follow the launcher's internals and
 * may change) and takes only what a user needs; the protocol may be given as
 * the `--protocol` argument would be (a package directory, an installed
 * package name, or `none`) or as a loaded `ProtocolFactory`.
 */
import type { JobFailure } from "../host/errors.js";
import type { JsonValue } from "../host/output-encoding.js";
import type { App, ProtocolFactory } from "../spi.js";
import { parseKillSpec } from "./kill-spec.js";
import { loadProtocol } from "./load-protocol.js";
import type { KillSpec } from "./options.js";
import { decodeOutput, type RankSummary } from "./report.js";
import { runSimJob } from "./sim-job.js";

export interface SimulateOptions<S = unknown> {
  /** The application (the default export of an app module). */
  readonly app: App<S>;
  /** A ProtocolFactory, or as `egida-run --protocol`: a package directory (resolved against `cwd`), an installed package name, or `none`. */
  readonly protocol: ProtocolFactory | string;
  /** Number of ranks (at least 1). */
  readonly size: number;
  /** Passed to the application's `init({ args })`. */
  readonly args?: readonly string[];
  /** Kills as `egida-run --kill` writes them: `RANK@Kmsgs` (at the rank's K-th delivery) or `RANK@Tms` (T virtual ms after launch). */
  readonly kills?: readonly string[];
  /** Seed of the simulated network's latencies (default 1): a seed gives one exact schedule. */
  readonly seed?: number;
  /** Concurrent failures the protocol tolerates (default: the protocol's). */
  readonly f?: number;
  /** Fail the job if it is not done after this many virtual ms (default: no limit; a deadlock or stall still ends it). */
  readonly timeoutMs?: number;
  /** Virtual ms before a killed rank restarts (default 10). */
  readonly restartDelayMs?: number;
  /** Directory a relative protocol path is resolved against (default: the current directory). */
  readonly cwd?: string;
  /** As `egida-run --strict`: Math.random() and Date.now() throw inside the app's handlers (use ctx.read). */
  readonly strict?: boolean;
}

export interface SimulationResult {
  /** Every rank finished and released its outputs. */
  readonly ok: boolean;
  /** Why the job failed (see `describeFailure`), or null. */
  readonly failure: JobFailure | null;
  /** Per rank, its committed outputs (what `ctx.write` was given) as JSON values, in the order the rank wrote them. */
  readonly outputs: readonly (readonly JsonValue[])[];
  /** Per rank: deliveries, restarts, outputs and protocol statistics. */
  readonly ranks: readonly RankSummary[];
  /** Total restarts (kills that took effect). */
  readonly restarts: number;
  /** Virtual time the job took, in ms. */
  readonly virtualMs: number;
}

/** A bad option (size, kill spec): the caller's mistake, named in one line. */
export class SimulateOptionsError extends Error {
  override readonly name = "SimulateOptionsError";
}

/**
 * Run `app` on `size` simulated ranks under `protocol`. Resolves with the
 * outcome whether or not the job succeeded; rejects only on bad options
 * (`SimulateOptionsError`) or a protocol that cannot be loaded
 * (`ProtocolLoadError`).
 */
export async function simulate<S>(opts: SimulateOptions<S>): Promise<SimulationResult> {
  if (!Number.isInteger(opts.size) || opts.size < 1) throw new SimulateOptionsError(`simulate: size must be a positive integer, got ${String(opts.size)}`);
  const kills: KillSpec[] = [];
  for (const text of opts.kills ?? []) {
    const k = parseKillSpec(text, opts.size);
    if (typeof k === "string") throw new SimulateOptionsError(`simulate: ${k.replace(/^--kill /, "kill ")}`);
    kills.push(k);
  }
  const protocol = typeof opts.protocol === "string" ? (await loadProtocol(opts.protocol, opts.cwd)).factory : opts.protocol;
  const res = await runSimJob({
    size: opts.size,
    app: opts.app as App<unknown>,
    protocol,
    kills,
    ...(opts.args !== undefined ? { args: opts.args } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.f !== undefined ? { f: opts.f } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.restartDelayMs !== undefined ? { restartDelayMs: opts.restartDelayMs } : {}),
    ...(opts.strict === true ? { strict: true } : {}),
  });
  // By output sequence number: the order the rank wrote them, whatever order the protocol released them in.
  const released = [...res.outputs].sort((a, b) => a.rank - b.rank || a.seq - b.seq);
  const outputs: JsonValue[][] = Array.from({ length: opts.size }, () => []);
  for (const o of released) outputs[o.rank]!.push(decodeOutput(o.payload));
  return {
    ok: res.failure === null,
    failure: res.failure,
    outputs,
    ranks: res.ranks,
    restarts: res.ranks.reduce((a, r) => a + r.restarts, 0),
    virtualMs: res.virtualMs,
  };
}
