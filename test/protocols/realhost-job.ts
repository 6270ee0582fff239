/**
 * Protocol crash tests on the real runtime: `runSimJob` (the `egida-run
 * --sim` path) with the real `RankHost`, the memory storage provider and,
 * for `volatile memory of processes`, the real replicated log wired by the
 * launcher. Crashes are the launcher's own kill specs (at virtual times, and
 * right after a rank's k-th delivery).
 *
 * A probe wraps the protocol factory to see what runSimJob does not report:
 * survivor rollbacks (a restore/initApp on a host whose start resolved),
 * each incarnation's RankHost (failures, final app state) and when each
 * incarnation went live. runSimJob ends the job as soon as every rank has
 * said done, possibly while a crashed rank is still restarting or replaying;
 * we keep the world running until every rank's last incarnation is live, so
 * its recovered state can be compared too (failures after the job ended are
 * read from the hosts).
 */
import { decodeValue } from "../../runtime-core/src/host/value-codec.js";
import type { App, Protocol, ProtocolFactory, ProtocolHost } from "@egida/runtime-core/spi";
import { describeFailure, ReportedError } from "../../runtime-core/src/host/errors.js";
import { RankHost } from "../../runtime-core/src/host/rank-host.js";
import type { KillSpec } from "../../runtime-core/src/launcher/options.js";
import { runSimJob } from "../../runtime-core/src/launcher/sim-job.js";
import type { JobResult } from "./harness.js";

export interface RealJobOptions<S> {
  readonly factory: ProtocolFactory;
  readonly app: App<S>;
  readonly size: number;
  readonly seed: number;
  readonly kills?: readonly KillSpec[];
  readonly restartDelayMs?: number;
  readonly f?: number;
  /** Virtual ms to wait after the job for recoveries to finish. */
  readonly settleMs?: number;
}

export interface RealJobResult<S> extends JobResult<S> {
  /** Per rank: [killed at, live again at] virtual ms, for each crash. */
  readonly downtimes: readonly (readonly [number, number, number])[];
  readonly kills: number;
  /** Every incarnation that was created: its composed protocol (inspect with kernelOf) and whether it went live. */
  readonly incarnations: readonly { readonly rank: number; readonly incarnation: number; readonly protocol: Protocol; readonly live: boolean }[];
}

const NEVER = new Promise<never>(() => {});

/**
 * After the host reported a failure, its calls reject with ReportedError to
 * unwind the caller. Protocol code that nobody awaits (the blocks' `void
 * s.onPump()`) would turn that into an unhandled rejection, which the TCP rank
 * process ignores (rank-main.ts) but a test runner does not: treat the failed
 * process as stopped instead. Other errors still propagate.
 */
function stopOnReported<T>(p: Promise<T>): Promise<T> {
  return p.catch((e: unknown) => {
    if (e instanceof ReportedError) return NEVER;
    throw e;
  });
}

interface Incarnation {
  readonly host: RankHost;
  inner: Protocol | null;
  started: boolean;
  startError: string | null;
  liveAt: number;
}

export async function runRealJob<S>(o: RealJobOptions<S>): Promise<RealJobResult<S>> {
  const incs: Incarnation[][] = Array.from({ length: o.size }, () => []);
  let survivorRollbacks = 0;
  const probe: ProtocolFactory = {
    protocolName: o.factory.protocolName,
    defaultF: o.factory.defaultF,
    create(h: ProtocolHost): Protocol {
      if (!(h instanceof RankHost)) throw new Error("runRealJob: the host is not a RankHost");
      const me: Incarnation = { host: h, inner: null, started: false, startError: null, liveAt: -1 };
      incs[h.rank]!.push(me);
      const counted: ProtocolHost = {
        rank: h.rank,
        size: h.size,
        incarnation: h.incarnation,
        f: h.f,
        transport: h.transport,
        storage: h.storage,
        timers: h.timers,
        trace: (e) => h.trace(e),
        initApp: (x) => {
          if (me.started) survivorRollbacks++;
          return stopOnReported(h.initApp(x));
        },
        deliver: (from, payload, x) => stopOnReported(h.deliver(from, payload, x)),
        captureAppState: () => h.captureAppState(),
        restoreAppState: (b) => {
          if (me.started) survivorRollbacks++;
          h.restoreAppState(b);
        },
        emitOutput: (seq, payload) => stopOnReported(h.emitOutput(seq, payload)),
        unrecoverable: (reason) => h.unrecoverable(reason),
      };
      const p = o.factory.create(counted);
      me.inner = p;
      return {
        start: async () => {
          try {
            await p.start();
          } catch (e) {
            if (!h.crashed) me.startError = e instanceof Error ? (e.stack ?? e.message) : String(e);
            throw e;
          }
          me.started = true;
          me.liveAt = h.timers.now();
        },
        send: (to, payload) => p.send(to, payload),
        onFrame: (f) => p.onFrame(f),
        read: (produce) => p.read(produce),
        write: (payload) => p.write(payload),
        onPeerRestart: (rank, inc) => p.onPeerRestart(rank, inc),
        stats: () => p.stats(),
        stop: () => p.stop(),
      };
    },
  };

  const killedAt: number[][] = Array.from({ length: o.size }, () => []);
  const res = await runSimJob({
    size: o.size,
    seed: o.seed,
    app: o.app as App<unknown>,
    // The sim is imported from source, the SPI from the package: same shapes, distinct const-enum declarations.
    protocol: probe as unknown as Parameters<typeof runSimJob>[0]["protocol"],
    kills: o.kills ?? [],
    restartDelayMs: o.restartDelayMs ?? 10,
    f: o.f,
    timeoutMs: 60_000,
    onEvent: (msg) => {
      // "...: killed rank R (incarnation I) at T virtual ms"
      const m = /killed rank (\d+) \(incarnation \d+\) at ([\d.]+) virtual ms/.exec(msg);
      if (m) killedAt[Number(m[1])]!.push(Number(m[2]));
    },
  });
  const world = res.world;

  // Let restarts and replays that outlived the job finish.
  const last = (r: number): Incarnation | undefined => incs[r]![incs[r]!.length - 1];
  const settled = (): boolean => incs.every((_, r) => last(r)?.started === true && !last(r)!.host.crashed);
  const deadline = world.now + (o.settleMs ?? 2_000);
  while (!settled() && world.now < deadline && !incs.some((l) => l.some((i) => i.startError !== null || i.host.failure !== null))) {
    await world.run({ until: world.now + 20 });
  }

  const errors: string[] = [];
  if (res.failure !== null) errors.push(describeFailure(res.failure));
  const retractions: string[] = [];
  for (const list of incs) {
    for (const i of list) {
      const f = i.host.failure;
      if (f !== null && f !== res.failure) {
        if (f.kind === "retraction") retractions.push(describeFailure(f));
        else errors.push(describeFailure(f));
      }
      if (i.startError !== null && f === null) errors.push(`rank ${i.host.rank} inc ${i.host.incarnation} start: ${i.startError}`);
    }
  }
  if (res.failure?.kind === "retraction") retractions.push(describeFailure(res.failure));
  if (!settled()) errors.push(`not every rank's last incarnation is live ${o.settleMs ?? 2_000} virtual ms after the job`);

  const outputs = new Map<string, unknown>();
  for (const out of res.outputs) outputs.set(`${out.rank}:${out.seq}`, decodeValue(out.payload));
  const states = incs.map((_, r) => (settled() ? (decodeValue(last(r)!.host.captureAppState()) as S) : (undefined as S)));
  const downtimes: [number, number, number][] = [];
  for (let r = 0; r < o.size; r++) {
    // Incarnation k+1 ends the downtime that killedAt[r][k] began.
    killedAt[r]!.forEach((t, k) => downtimes.push([r, t, incs[r]![k + 1]?.liveAt ?? Infinity]));
  }
  const crashedRanks = killedAt.flatMap((l, r) => (l.length > 0 ? [r] : []));
  return {
    outputs,
    retractions,
    states,
    // runSimJob returns without a failure only once every rank has called done().
    done: incs.map(() => res.failure === null),
    survivorRollbacks,
    crashedRanks,
    errors,
    time: world.now,
    trace: [],
    recovered: incs.reduce((n, l) => n + l.filter((i) => i.host.incarnation > 0 && i.started).length, 0),
    protocols: incs.map((_, r) => last(r)!.host.protocol as unknown as Protocol),
    downtimes,
    kills: killedAt.reduce((n, l) => n + l.length, 0),
    incarnations: incs.flatMap((l) => l.map((i) => ({ rank: i.host.rank, incarnation: i.host.incarnation, protocol: i.inner!, live: i.started }))),
  };
}

/** Most ranks down at once (from kill to the next incarnation being live). */
export function maxConcurrentDown(downtimes: readonly (readonly [number, number, number])[]): number {
  const ev: [number, number][] = [];
  for (const [, a, b] of downtimes) ev.push([a, 1], [b, -1]);
  ev.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of ev) max = Math.max(max, (cur += d));
  return max;
}
