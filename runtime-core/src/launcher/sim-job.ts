/**
 * `egida-run --sim`: the whole job in one process, on SimWorld (seeded
 * latencies, virtual clock) with memory storage whose stable media survive a
 * simulated crash. Same RankHost, same protocol code as over TCP.
 *
 * Kills crash the rank in the world (in-flight frames to it are lost) and
 * make its RankHost inert; the watchdog restarts it after
 * `restartDelayMs` virtual ms with incarnation + 1. Unlike TCP, an idle
 * simulation with ranks not done is an exact deadlock, reported at once.
 *
 * As over TCP, once every rank is done every rank runs Protocol.finish (a
 * rank restarted meanwhile once it is live), and the job ends when every
 * current incarnation has finished; kills still fire during that phase.
 */
import { ReportedError, errorText, type JobFailure } from "../host/errors.js";
import { MemoryOutputSink, type ReleasedOutput } from "../host/output-sink.js";
import { RankHost } from "../host/rank-host.js";
import { SimWorld } from "../sim/world.js";
import type { App, ProtocolFactory, TraceEvent } from "../spi.js";
import { createMemoryStorageProvider, type MemoryStableMedia } from "../storage/provider.js";
import { JobState } from "./job-state.js";
import { fenceStorage } from "./fenced-storage.js";
import { wireReplication } from "./replication.js";
import { DEFAULT_FINISH_TIMEOUT_MS, type KillSpec } from "./options.js";
import { StallDetector, stallWindow, type RankPhase } from "./stall-detector.js";
import type { RankSummary } from "./report.js";
import { wallMs, type TraceBody, type TraceEmit, type TraceRecord } from "../trace/records.js";

export interface SimJobParams {
  readonly size: number;
  readonly app: App<unknown>;
  readonly args?: readonly string[];
  readonly protocol: ProtocolFactory;
  readonly seed?: number;
  readonly f?: number;
  readonly kills?: readonly KillSpec[];
  /** Virtual ms before a killed rank restarts (default 10). */
  readonly restartDelayMs?: number;
  /** Virtual ms after which the job fails (default: none). */
  readonly timeoutMs?: number;
  /** Virtual ms without progress before the job fails as stalled (0: never; default see stallWindow). */
  readonly stallTimeoutMs?: number;
  /** Virtual ms the finish phase (every rank done, Protocol.finish on every rank) may take (default DEFAULT_FINISH_TIMEOUT_MS). */
  readonly finishTimeoutMs?: number;
  readonly onOutput?: (o: ReleasedOutput) => void;
  readonly onEvent?: (message: string) => void;
  readonly trace?: (event: TraceEvent) => void;
  /** Math.random() and Date.now() throw inside the app's handlers (RankHostOptions.strict). */
  readonly strict?: boolean;
  /** The run trace (`--trace FILE`): every record, stamped with wall clock and virtual time. */
  readonly runTrace?: (record: TraceRecord) => void;
  /**
   * A kill also loses the frames the rank sent in its current step, as over
   * TCP (default true; see SimWorldOptions.crashLosesUnflushed).
   */
  readonly crashLosesUnflushed?: boolean;
}

export interface SimJobResult {
  readonly failure: JobFailure | null;
  readonly ranks: readonly RankSummary[];
  readonly outputs: readonly ReleasedOutput[];
  readonly virtualMs: number;
  /** Virtual time at which every rank was done and the finish phase (Protocol.finish) began; null if never. */
  readonly finishStartMs: number | null;
  readonly world: SimWorld;
}

const STOP = new Error("simulation stopped: the job ended");

/** Virtual time between checks for "all done", failures and timeouts. */
const SLICE_MS = 50;

export async function runSimJob(p: SimJobParams): Promise<SimJobResult> {
  const size = p.size;
  // As TCP: frames arrive as unaligned Buffer views, and a kill loses what the
  // rank sent in its last step (the transport writes on the next tick).
  const world = new SimWorld({ size, seed: p.seed ?? 1, codec: true, crashLosesUnflushed: p.crashLosesUnflushed ?? true });
  const stable: MemoryStableMedia = new Map();
  const state = new JobState(size, p.kills ?? [], 0);
  const hosts: RankHost[] = [];
  const event = p.onEvent ?? (() => {});
  const restartDelay = p.restartDelayMs ?? 10;
  const sink = new MemoryOutputSink((o) => {
    state.rank(o.rank).outputs++;
    p.onOutput?.(o);
  });
  const fatal = (f: JobFailure): void => state.fail(f);
  const out = p.runTrace;
  /** A run-trace emitter for one rank and incarnation (undefined when not tracing: nothing is built). */
  const emitter = (rank: number, inc: number): TraceEmit | undefined =>
    out === undefined ? undefined : (b: TraceBody) => out({ ts: wallMs(), vt: world.now, rank, inc, ...b });
  /** Virtual time every rank was first done (the finish phase began), or null. */
  let finishFrom: number | null = null;
  /** Per rank, the host whose Protocol.finish resolved (a restarted rank must finish again). */
  const finishedBy: (RankHost | null)[] = new Array<RankHost | null>(size).fill(null);
  const allFinished = (): boolean => finishFrom !== null && hosts.every((h, r) => finishedBy[r] === h);
  /** The job is over: a failure, or every current incarnation finished. */
  const ended = (): boolean => state.failure !== null || allFinished();
  const finishRank = (r: number, host: RankHost): void => {
    host.finish().then(
      () => {
        if (!host.crashed) finishedBy[r] = host;
      },
      (e: unknown) => {
        if (host.crashed || e instanceof ReportedError) return;
        const { message, stack } = errorText(e);
        fatal({ kind: "internal", rank: r, message: `finish: ${message}`, stack });
      },
    );
  };
  const startFinish = (): void => {
    finishFrom = world.now;
    for (let r = 0; r < size; r++) {
      const h = hosts[r]!;
      if (!h.crashed && live[r]) finishRank(r, h);
    }
  };
  /** Per rank: the current host's start() resolved (finish is only called on a live rank). */
  const live: boolean[] = new Array<boolean>(size).fill(false);
  /** Per rank: the protocol's latest note this incarnation (for a stall diagnosis). */
  const notes: (string | undefined)[] = new Array<string | undefined>(size).fill(undefined);
  const stall = new StallDetector({ size, now: 0, unit: "virtual s", reports: false });
  const observeRanks = (): void => {
    for (let r = 0; r < size; r++) {
      const h = hosts[r]!;
      const phase: RankPhase = h.crashed ? "restarting" : !live[r] ? (h.incarnation > 0 ? "recovering" : "starting") : h.isDone ? "done" : "running";
      stall.observe(r, { incarnation: h.incarnation, phase, deliveries: h.deliveryCount, sends: h.sendCount, outputs: state.rank(r).outputs, note: notes[r] }, world.now);
    }
  };

  const kill = (r: number, why: string): void => {
    const host = hosts[r]!;
    const count = host.deliveryCount;
    live[r] = false;
    host.crash();
    world.crash(r);
    const next = state.died(r, count);
    emitter(r, next - 1)?.({ ev: "kill", why });
    event(`${why}: killed rank ${r} (incarnation ${next - 1}) at ${fmt(world.now)} virtual ms`);
    world.at(world.now + restartDelay, () => {
      if (state.failure) return;
      world.restart(r, next);
      emitter(r, next)?.({ ev: "restart" });
      event(`watchdog: restarted rank ${r} as incarnation ${next}`);
      startRank(r);
    });
  };

  const startRank = (r: number): void => {
    const inc = state.rank(r).incarnation;
    const transport = world.transport(r);
    const wiring = wireReplication({ rank: r, size, incarnation: inc, f: p.f ?? p.protocol.defaultF, send: (to, fr) => transport.send(to, fr) });
    const host: RankHost = new RankHost({
      rank: r,
      size,
      incarnation: inc,
      f: p.f,
      app: p.app,
      args: p.args,
      protocol: p.protocol,
      transport,
      timers: world.timers(r),
      // Fenced: once this incarnation is killed, its leftover async code writes nothing more.
      storage: fenceStorage(createMemoryStorageProvider({ rank: r, stable, replicated: wiring.replicated, media: p.protocol.media }), (): boolean => host.crashed),
      sink,
      trace: p.trace,
      strict: p.strict === true,
      runTrace: emitter(r, inc),
      runtimeFrame: wiring.runtimeFrame,
      events: {
        fatal,
        peerRestarted: wiring.peerRestarted,
        done: () => {
          state.rank(r).done = true;
        },
        delivered: (count) => {
          const total = state.delivered(r, count, world.now);
          const k = state.takeCountKill(r, total);
          if (k) kill(r, `--kill ${k.text}`);
        },
        note: (e) => {
          if (e.type === "checkpoint") return; // too frequent for the event log; it is in the trace
          if (e.type === "protocol" && e.what.startsWith("state lost")) {
            if (!state.stateLost) state.lastProgress = world.now;
            state.stateLost = true;
            state.rank(r).stateLost = true;
          }
          notes[r] = describeNote(e);
          event(`rank ${r}: ${describeNote(e)}`);
        },
      },
    });
    hosts[r] = host;
    notes[r] = undefined;
    host.start().then(
      () => {
        if (host.crashed) return;
        live[r] = true;
        if (inc > 0) event(`rank ${r} incarnation ${inc} is live`);
        // Restarted during the finish phase: it must finish too.
        if (finishFrom !== null) finishRank(r, host);
      },
      (e: unknown) => {
        if (host.crashed || e instanceof ReportedError) return;
        const { message, stack } = errorText(e);
        fatal({ kind: "internal", rank: r, message, stack });
      },
    );
  };

  // Protocol code nobody awaits (a generated protocol's `void this.onPump()`) rejects with
  // ReportedError once its host has reported a failure: that is the failure unwinding, already
  // recorded, and must not kill the launcher before it reports (rank-main.ts ignores it the
  // same way). Any other unhandled rejection during the job is an internal error of the job.
  const onUnhandled = (e: unknown): void => {
    if (e instanceof ReportedError) return;
    const { message, stack } = errorText(e);
    fatal({ kind: "internal", rank: -1, message: `unhandled rejection: ${message}`, stack });
  };
  process.on("unhandledRejection", onUnhandled);

  for (const spec of state.timeKills()) {
    world.at(spec.atMs!, () => {
      if (ended() || !world.isAlive(spec.rank) || !state.markTimeKillFired(spec)) return;
      kill(spec.rank, `--kill ${spec.text}`);
    });
  }
  for (let r = 0; r < size; r++) startRank(r);

  // Every rank done: the finish phase starts at once. Stop at the first event after the job ended
  // (all finished, or a failure), as the TCP launcher shuts ranks down at once.
  const finishLimit = p.finishTimeoutMs ?? DEFAULT_FINISH_TIMEOUT_MS;
  let idleInFinish = 0;
  const onStep = (): void => {
    if (finishFrom === null && state.allDone && !state.failure) startFinish();
    if (ended()) throw STOP;
  };
  for (;;) {
    let res: Awaited<ReturnType<SimWorld["run"]>>;
    try {
      res = await world.run({ until: world.now + SLICE_MS, onStep });
    } catch (e) {
      if (e === STOP) break;
      process.off("unhandledRejection", onUnhandled);
      throw e;
    }
    if (finishFrom === null && state.allDone && !state.failure) startFinish();
    if (ended()) break;
    observeRanks();
    if (finishFrom !== null) {
      if (res.reason === "idle" && idleInFinish < 3) {
        // Protocol.finish may resolve (or schedule events) on promises still settling: let them run, then look again.
        idleInFinish++;
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      if (res.reason !== "idle") idleInFinish = 0;
      const waiting = hosts.flatMap((h, r) => (finishedBy[r] === h ? [] : [r]));
      if (res.reason === "idle" || world.now - finishFrom > finishLimit) {
        state.fail({
          kind: "timeout",
          rank: -1,
          message: `finish: every rank was done, but ranks ${waiting.join(", ")} did not release their pending outputs ${res.reason === "idle" ? "(the simulation went idle)" : `within ${finishLimit} virtual ms`} (Protocol.finish)`,
        });
        break;
      }
      continue;
    }
    if (res.reason === "idle") {
      state.fail({
        kind: "timeout",
        rank: -1,
        message: `the simulation went idle with ranks ${state.notDone().join(", ")} not done (deadlock, or messages lost with a rank's state); ${stall.describeRanks(world.now)}`,
      });
      break;
    }
    if (p.timeoutMs !== undefined && world.now >= p.timeoutMs) {
      state.fail({ kind: "timeout", rank: -1, message: `not done after ${p.timeoutMs} virtual ms; ranks ${state.notDone().join(", ")} not done` });
      break;
    }
    const why = stall.check(world.now, stallWindow(p.stallTimeoutMs, state.stateLost), state.lastProgress);
    if (why !== null) {
      state.fail({ kind: "timeout", rank: -1, message: why });
      break;
    }
  }

  for (let r = 0; r < size; r++) {
    const h = hosts[r]!;
    if (h.crashed) continue;
    try {
      state.rank(r).stats = await h.stop();
    } catch {
      // A failed protocol's stop may throw again; the failure is already recorded.
    }
  }
  process.off("unhandledRejection", onUnhandled);
  return { failure: state.failure, ranks: state.summaries(), outputs: sink.outputs, virtualMs: world.now, finishStartMs: finishFrom, world };
}

export function describeNote(e: TraceEvent): string {
  switch (e.type) {
    case "protocol":
      return e.what;
    case "recover":
      return `recovered as incarnation ${e.incarnation} (${e.replayed} replayed)`;
    case "rollback":
      return `rolled back: ${e.reason}`;
    case "checkpoint":
      return `checkpoint ${e.index}`;
    default:
      return e.type;
  }
}

function fmt(ms: number): string {
  return ms.toFixed(1);
}
