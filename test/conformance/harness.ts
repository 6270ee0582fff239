/**
 * runSimJob: one job on the seeded SimWorld, with memory storage (stable
 * media survive a crash, volatile ones and unsynced tails do not), a real
 * RankHost per rank and incarnation, and crashes injected per a CrashSchedule.
 *
 * Crashed ranks restart as new incarnations after a seeded delay. The job
 * runs until every rank has called done and every rank is up and live, then
 * drains in-flight messages for `drainMs`; a step or time budget, or an idle
 * world with ranks not done, is a hang. Everything the oracles need is
 * recorded by adapters in this directory (history.ts, observed-host.ts,
 * storage-probe.ts): no protocol cooperation beyond the SPI.
 */
import { MemoryOutputSink } from "../../runtime-core/src/host/output-sink.js";
import { RankHost } from "../../runtime-core/src/host/rank-host.js";
import { ReportedError, describeFailure, errorText, type JobFailure } from "../../runtime-core/src/host/errors.js";
import { SimWorld } from "../../runtime-core/src/sim/world.js";
import type { SimNetStats } from "../../runtime-core/src/sim/sim-net.js";
import { wireReplication } from "../../runtime-core/src/launcher/replication.js";
import { Prng } from "../../runtime-core/src/sim/prng.js";
import { wallMs, type TraceBody, type TraceEmit, type TraceRecord } from "../../runtime-core/src/trace/records.js";
import { FrameKind, type App, type Frame, type LogStore, type ProtocolFactory, type TraceEvent, type Transport } from "../../runtime-core/src/spi.js";
import { canonical, canonicalOf, digestOf } from "./canon.js";
import {
  MemoryCheckpointStore,
  MemoryLog,
  createMemoryStorageProvider,
  newMemoryLogState,
  type MemoryLogState,
  type MemoryStableMedia,
} from "../../runtime-core/src/storage/index.js";
import { RankHistory, probeApp, unwrapState, type Step, type WrappedState } from "./history.js";
import { observedFactory } from "./observed-host.js";
import type { CrashPoint, CrashSchedule, CrashSpec } from "./schedule.js";
import { triggerOf } from "./schedule.js";
import { probeStorage, type StorageProbe } from "./storage-probe.js";

export interface SimJobParams {
  readonly protocol: ProtocolFactory;
  readonly app: App<unknown>;
  readonly size: number;
  readonly seed: number;
  readonly schedule: CrashSchedule;
  readonly args?: readonly string[];
  /** Failures to tolerate (default: the protocol's defaultF). */
  readonly f?: number;
  /** Seeded restart delay, virtual ms, uniform in [min, max) (default 2..12). */
  readonly restartDelayMs?: readonly [number, number];
  /** World events before the run is a hang (default 400k). */
  readonly maxSteps?: number;
  /** Virtual ms before the run is a hang (default 20 s). */
  readonly maxTimeMs?: number;
  /** Virtual ms to keep running after everyone is done, so in-flight messages land (default 50). */
  readonly drainMs?: number;
  /** Storage sampling period, virtual ms (default 10). */
  readonly sampleEveryMs?: number;
  /**
   * `volatile memory of processes` as runtime-core's real replication (replicated log and
   * checkpoint store over runtime control frames: copies die with their holders, so more than
   * f overlapping failures may end unrecoverable) instead of the stand-in that outlives its
   * owner's crash (default false; `npm run campaign -- --real-replication`).
   */
  readonly realReplication?: boolean;
  /** The run trace (`npm run campaign -- --trace FILE`): every record, stamped with wall clock and virtual time. */
  readonly runTrace?: (record: TraceRecord) => void;
  /** Probabilities that a crash cuts or corrupts the victim's last frame in flight to each peer (default 0.2 / 0.1). */
  readonly crashTail?: { readonly cut: number; readonly corrupt: number };
  /**
   * "frames" (default): the world delivers frames as bytes through the TCP codec.
   * "tcp": every rank runs the real TcpTransport (handshake, re-dial, failure detection)
   * over simulated sockets (SimWorld `wire: "tcp"`); `crashTail` then damages the last
   * chunk each of the victim's connections has in flight.
   */
  readonly wire?: "frames" | "tcp";
  /**
   * With wire "tcp": at each of these virtual times, reset the connection of a seeded pair of
   * live ranks mid-stream, preferring one with bytes in flight (the first chunk in flight each
   * way arrives cut or corrupted, the rest is lost).
   */
  readonly resetsAtMs?: readonly number[];
}

export interface CrashRecord {
  readonly rank: number;
  /** The incarnation that died. */
  readonly incarnation: number;
  readonly time: number;
  readonly step: number;
  /** Index into the schedule. */
  readonly spec: number;
  readonly trigger: string;
  /** Ranks down or still recovering at that moment, this one included. */
  readonly concurrent: number;
  /** The rank's effective history at the crash, and the last position whose effects left the process. */
  readonly before: readonly Step[];
  readonly visible: number;
}

export interface RollbackRecord {
  readonly rank: number;
  readonly incarnation: number;
  /** The incarnation was live (a survivor), not recovering. */
  readonly live: boolean;
  readonly why: string;
}

export interface StorageSample {
  readonly time: number;
  /** Per rank: bytes in logs (stable, replicated and volatile) and in retained checkpoints. */
  readonly log: readonly number[];
  readonly checkpoint: readonly number[];
  readonly checkpoints: readonly number[];
}

export interface JobOutput {
  readonly seq: number;
  readonly bytes: Uint8Array;
}

export interface JobCounts {
  crashes: number;
  /** Restarted incarnations that became live. */
  recoveries: number;
  /** Rollbacks: rollback traces, restores/re-inits of live incarnations, position regressions. */
  rollbacks: number;
  checkpoints: number;
  replayed: number;
  /** Schedule entries whose trigger came while the rank was down or after the job ended. */
  skipped: number;
  /** Control frames sent by live incarnations (the protocol's own traffic: tokens, pulls, acknowledgements, ...). */
  control: number;
}

export interface JobResult {
  readonly protocol: string;
  readonly size: number;
  readonly seed: number;
  readonly schedule: CrashSchedule;
  readonly f: number;
  /** "unrecoverable: ..." when the protocol (or host) declared it; null otherwise. */
  readonly unrecoverable: string | null;
  /** Any other job failure (retraction, app error, internal), described. */
  readonly failure: JobFailure | null;
  /** Why the run was cut short without finishing, or null. */
  readonly hang: string | null;
  readonly histories: readonly RankHistory[];
  /** Released outputs per rank, by seq (the idempotent sink's view). */
  readonly outputs: readonly (readonly JobOutput[])[];
  /** Final application state per rank, v8 bytes (null if it could not be taken). */
  readonly finalStates: readonly (Uint8Array | null)[];
  readonly done: readonly boolean[];
  /** Per rank: up and past recovery when the run stopped. */
  readonly liveAtEnd: readonly boolean[];
  /** The run reached its end condition (everyone done and up), as opposed to a hang or a failure. */
  readonly finished: boolean;
  readonly counts: JobCounts;
  readonly crashes: readonly CrashRecord[];
  readonly rollbacks: readonly RollbackRecord[];
  readonly maxConcurrent: number;
  readonly storage: readonly StorageSample[];
  readonly trace: readonly TraceEvent[];
  readonly steps: number;
  /** The world step at which everyone was done and up (null if never). */
  readonly finishedAtStep: number | null;
  readonly virtualMs: number;
  /** With wire "tcp": the simulated sockets' counters (dials, refusals, resets, damaged chunks). */
  readonly net: SimNetStats | null;
  /** With wire "tcp": warning lines the TcpTransports logged (e.g. a connection closed for a CRC mismatch). */
  readonly netWarnings: number;
}

interface Incarnation {
  readonly n: number;
  host: RankHost;
  probe: StorageProbe;
  dead: boolean;
  live: boolean;
  /** Last wrapped state a handler saw (fallback for the final state). */
  state: WrappedState | null;
  pending: { replay: boolean; digest: number };
}

export async function runSimJob(p: SimJobParams): Promise<JobResult> {
  const size = p.size;
  // A crash loses the frames the rank sent in its last step, as over TCP (the launcher's sim mode
  // does the same): what a process sent just before it died may never arrive.
  // Frames cross as bytes through the TCP codec; a crash may cut or corrupt the victim's last frame in flight.
  const world = new SimWorld({
    size,
    seed: p.seed,
    crashLosesUnflushed: true,
    codec: true,
    crashTail: p.crashTail ?? { cut: 0.2, corrupt: 0.1 },
    wire: p.wire ?? "frames",
  });
  const rng = new Prng((p.seed ^ 0x5bd1e995) >>> 0);
  const stable: MemoryStableMedia = new Map();
  // Stand-in for `volatile memory of processes` (replicated to f peers): it outlives its owner's crash.
  const replicated = new Map<string, MemoryLogState>();
  const f = p.f ?? p.protocol.defaultF;
  const [dMin, dMax] = p.restartDelayMs ?? [2, 12];
  const histories = Array.from({ length: size }, (_, r) => new RankHistory(r));
  const incs: Incarnation[] = [];
  const done = new Array<boolean>(size).fill(false);
  const trace: TraceEvent[] = [];
  const crashes: CrashRecord[] = [];
  const rollbacks: RollbackRecord[] = [];
  const storage: StorageSample[] = [];
  const counts: JobCounts = { crashes: 0, recoveries: 0, rollbacks: 0, checkpoints: 0, replayed: 0, skipped: 0, control: 0 };
  const fired = new Array<boolean>(p.schedule.length).fill(false);
  const pointCount = new Map<string, number>();
  const restartCount = new Array<number>(size).fill(0);
  let pendingRestarts = 0;
  let failure: JobFailure | null = null;
  let unrecoverable: string | null = null;
  let ended = false;
  let maxConcurrent = 0;

  const sink = new MemoryOutputSink();
  const fatal = (fl: JobFailure): void => {
    if (ended && failure === null && fl.kind === "internal") return; // end-of-run state capture on a busy host
    if (failure !== null) return;
    failure = fl;
    if (fl.kind === "unrecoverable") unrecoverable = describeFailure(fl);
  };

  // Down, or restarted and not yet live (a first incarnation still in onStart is not recovering).
  const out = p.runTrace;
  const emitter = (rank: number, inc: number): TraceEmit | undefined =>
    out === undefined ? undefined : (b: TraceBody) => out({ ts: wallMs(), vt: world.now, rank, inc, ...b });
  const downNow = (): number => incs.filter((c) => c.dead || (c.n > 0 && !c.live)).length;

  const crash = (r: number, specIndex: number): boolean => {
    const c = incs[r]!;
    if (ended || failure !== null || c.dead) return false;
    const h = histories[r]!;
    const before = h.snapshot();
    const visible = h.lastVisible();
    c.dead = true;
    c.host.crash();
    world.crash(r);
    counts.crashes++;
    const concurrent = downNow();
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    const spec = p.schedule[specIndex]!;
    crashes.push({ rank: r, incarnation: c.n, time: world.now, step: world.stats.steps, spec: specIndex, trigger: triggerOf(spec), concurrent, before, visible });
    emitter(r, c.n)?.({ ev: "kill", why: `schedule[${specIndex}]: ${JSON.stringify(spec)}` });
    const delay = spec.restartAfterMs ?? rng.range(dMin, dMax);
    pendingRestarts++;
    world.at(world.now + delay, () => {
      pendingRestarts--;
      if (failure !== null) return;
      world.restart(r, c.n + 1);
      emitter(r, c.n + 1)?.({ ev: "restart" });
      startRank(r, c.n + 1);
      restartCount[r]!++;
      armRestartTriggers(r);
    });
    return true;
  };

  /** Fire schedule entries waiting for `point` on rank r (counting occurrences per rank and point). */
  const atPoint = (r: number, point: CrashPoint): void => {
    const key = `${r}/${point}`;
    const n = (pointCount.get(key) ?? 0) + 1;
    pointCount.set(key, n);
    p.schedule.forEach((s, i) => {
      if (fired[i] || s.rank !== r || !("when" in s) || s.when !== point || (s.nth ?? 1) !== n) return;
      fired[i] = true;
      if (!crash(r, i)) counts.skipped++;
    });
  };

  const armRestartTriggers = (r: number): void => {
    p.schedule.forEach((s, i) => {
      if (fired[i] || s.rank !== r || !("when" in s) || s.when !== "restart" || (s.nth ?? 1) !== restartCount[r]) return;
      fired[i] = true;
      const inc = incs[r]!.n;
      world.at(world.now + (s.delayMs ?? 0), () => {
        // Only the incarnation that just restarted: a crash of a later one would not be "during recovery".
        if (incs[r]!.n !== inc || !crash(r, i)) counts.skipped++;
      });
    });
  };

  const startRank = (r: number, n: number): void => {
    const inc: Incarnation = {
      n,
      host: undefined as unknown as RankHost,
      probe: undefined as unknown as StorageProbe,
      dead: false,
      live: false,
      state: null,
      pending: { replay: false, digest: 0 },
    };
    incs[r] = inc;
    const dead = (): boolean => inc.dead;
    const transport = world.endpoint(r);
    const wiring = p.realReplication === true ? wireReplication({ rank: r, size, incarnation: n, f, send: (to, fr) => transport.send(to, fr) }) : null;
    const inner = createMemoryStorageProvider({
      rank: r,
      stable,
      // A plugin medium is simulated by its `stable` trait, as `egida-run --sim` does; its store is not opened.
      ...(p.protocol.media === undefined ? {} : { media: p.protocol.media }),
      replicated:
        wiring?.replicated ??
        ((name) => {
          const key = `${r}/${name}`;
          let st = replicated.get(key);
          if (!st) replicated.set(key, (st = newMemoryLogState()));
          return Promise.resolve(MemoryLog.reopenAfterCrash("volatile-memory-of-processes", st));
        }),
    });
    inc.probe = probeStorage(inner, dead, (pt) => atPoint(r, pt));
    const app = probeApp(p.app, {
      incarnation: n,
      history: histories[r]!,
      dead,
      live: () => inc.live || n === 0,
      takeDelivery: () => inc.pending,
      onDeliver: (count) => {
        if (inc.pending.replay) atPoint(r, "replay");
        p.schedule.forEach((s, i) => {
          if (!fired[i] && s.rank === r && "atDelivery" in s && s.atDelivery === count) {
            fired[i] = true;
            if (!crash(r, i)) counts.skipped++;
          }
        });
      },
      beforeWrite: () => atPoint(r, "before-output"),
    });
    const wrappedApp: App<unknown> = {
      init: (a) => app.init(a),
      onStart: (s, ctx) => {
        inc.state = s as WrappedState;
        return app.onStart!(s as WrappedState, ctx);
      },
      onMessage: (s, m, ctx) => {
        inc.state = s as WrappedState;
        return app.onMessage(s as WrappedState, m, ctx);
      },
    };
    // A first incarnation has nothing to restore: any rollback in it is a survivor's.
    const survivor = (): boolean => inc.live || n === 0;
    const note = (why: string): void => {
      rollbacks.push({ rank: r, incarnation: n, live: survivor(), why });
      counts.rollbacks++;
    };
    const protocol = observedFactory(p.protocol, {
      initApp: (replay) => {
        if (inc.live) note(`re-initialized the application while live (replay=${replay})`);
      },
      restoreAppState: () => {
        if (survivor()) note("restored a checkpoint while live");
      },
      deliver: (_from, digest, replay) => {
        inc.pending = { replay, digest };
        if (replay && !inc.dead) counts.replayed++;
      },
      trace: (e) => {
        if (inc.dead) return;
        if (e.type === "rollback") note(`rollback trace: ${e.reason}`);
        else if (e.type === "checkpoint") counts.checkpoints++;
      },
      unrecoverable: () => {},
    });
    const host = new RankHost({
      rank: r,
      size,
      incarnation: n,
      f,
      app: wrappedApp,
      args: p.args ?? [],
      protocol,
      transport: observedTransport(transport, histories[r]!, dead, () => counts.control++),
      ...(wiring === null ? {} : { runtimeFrame: wiring.runtimeFrame }),
      timers: world.timers(r),
      storage: inc.probe.provider,
      sink: {
        emit: (rank, seq, payload) =>
          sink.emit(rank, seq, payload).then(() => {
            if (inc.dead) return;
            histories[r]!.markReleased(payload);
            atPoint(r, "after-output");
          }),
      },
      runTrace: emitter(r, n),
      trace: (e) => {
        if (inc.dead) return;
        // The host's digest is over raw v8 bytes, which differ between equal values (canon.ts); use the canonical one.
        trace.push(e.type === "deliver" ? { ...e, digest: inc.pending.digest } : e);
      },
      events: {
        fatal,
        done: () => {
          done[r] = true;
        },
        ...(wiring === null ? {} : { peerRestarted: wiring.peerRestarted }),
      },
    });
    inc.host = host;
    host.start().then(
      () => {
        if (inc.dead) return;
        inc.live = true;
        if (n > 0) counts.recoveries++;
      },
      (e: unknown) => {
        if (inc.dead || e instanceof ReportedError) return;
        const { message, stack } = errorText(e);
        fatal({ kind: "internal", rank: r, message, stack });
      },
    );
  };

  // Connection resets between live ranks (wire "tcp").
  for (const t of p.resetsAtMs ?? []) {
    world.at(t, () => {
      if (ended || size < 2) return;
      const busy = world.busyConnections();
      let a = Math.floor(rng.next() * size);
      let b = (a + 1 + Math.floor(rng.next() * (size - 1))) % size;
      if (busy.length > 0) [a, b] = busy[Math.floor(rng.next() * busy.length)]!;
      if (!world.isAlive(a) || !world.isAlive(b)) return;
      world.resetConnection(a, b, rng.next() < 0.5 ? "cut" : "corrupt");
    });
  }

  // Time-triggered crashes.
  p.schedule.forEach((s, i) => {
    if ("atTime" in s) {
      world.at(s.atTime, () => {
        if (fired[i]) return;
        fired[i] = true;
        if (!crash(s.rank, i)) counts.skipped++;
      });
    }
  });
  for (let r = 0; r < size; r++) startRank(r, 0);

  // A protocol that drops a rejected host.deliver/initApp promise leaves an unhandled rejection. An already
  // reported failure (ReportedError) is harmless; anything else is this job's internal error, not the process's.
  const onUnhandled = (e: unknown): void => {
    if (e instanceof ReportedError) return;
    const { message, stack } = errorText(e);
    fatal({ kind: "internal", rank: -1, message: `unhandled rejection: ${message}`, stack });
  };
  process.on("unhandledRejection", onUnhandled);
  try {
    return await drive();
  } finally {
    // Let stragglers of this job reject while the listener is still on.
    await new Promise((res) => setImmediate(res));
    process.off("unhandledRejection", onUnhandled);
  }

  async function drive(): Promise<JobResult> {

  const maxSteps = p.maxSteps ?? 400_000;
  const maxTime = p.maxTimeMs ?? 20_000;
  const drainMs = p.drainMs ?? 50;
  let drainUntil = Infinity;
  let finishedAtStep: number | null = null;
  const sampleMs = p.sampleEveryMs ?? 10;
  const finished = (): boolean => done.every(Boolean) && pendingRestarts === 0 && incs.every((c) => !c.dead && c.live);
  // Protocol.finish on every rank once everyone is done and up (pending output commits); the drain also waits for it.
  const finishedRanks = new Array<boolean>(size).fill(false);
  const startFinish = (): void => {
    incs.forEach((c, r) => {
      c.host.finish().then(
        () => {
          finishedRanks[r] = true;
        },
        (e: unknown) => {
          finishedRanks[r] = true;
          if (c.dead || e instanceof ReportedError) return;
          const { message, stack } = errorText(e);
          fatal({ kind: "internal", rank: r, message: `finish: ${message}`, stack });
        },
      );
    });
  };
  const stepSpecs = p.schedule.map((s, i) => ({ s, i })).filter((x): x is { s: CrashSpec & { atStep: number }; i: number } => "atStep" in x.s);
  // Never throw from onStep: the world has already dequeued the event, and throwing would lose it.
  const onStep = (st: { step: number }): void => {
    if (ended || failure !== null) return;
    if (finished()) {
      // Everyone is done and up: no more crashes; the loop below drains and stops.
      ended = true;
      drainUntil = world.now + drainMs;
      finishedAtStep = st.step;
      startFinish();
      return;
    }
    for (const { s, i } of stepSpecs) {
      if (!fired[i] && st.step >= s.atStep) {
        fired[i] = true;
        if (!crash(s.rank, i)) counts.skipped++;
      }
    }
  };

  let hang: string | null = null;
  for (;;) {
    // Past the drain with Protocol.finish still pending: keep the clock moving (its commit rounds run on timers).
    const until = world.now >= drainUntil ? world.now + sampleMs : Math.min(world.now + sampleMs, drainUntil);
    const res = await world.run({ until, onStep, maxSteps: maxSteps - world.stats.steps });
    await sampleStorage();
    if (failure !== null) break;
    if (!ended && finished()) {
      ended = true;
      drainUntil = world.now + drainMs;
      finishedAtStep = world.stats.steps;
      startFinish();
    }
    if (ended) {
      if ((world.now >= drainUntil && finishedRanks.every(Boolean)) || res.reason === "idle") break;
      if (world.now >= maxTime || world.stats.steps >= maxSteps) {
        hang = `stalled: every rank done, but Protocol.finish did not resolve on ranks ${finishedRanks.flatMap((f, r) => (f ? [] : [r])).join(", ")} after ${world.now.toFixed(1)} virtual ms`;
        break;
      }
      continue;
    }
    if (res.reason === "idle") {
      hang = `stalled (deadlock): the simulation went idle at ${world.now.toFixed(1)} virtual ms with ${describeWaiting()}`;
      break;
    }
    if (world.stats.steps >= maxSteps) {
      hang = `stalled: still running after ${maxSteps} steps (${world.now.toFixed(1)} virtual ms) with ${describeWaiting()}`;
      break;
    }
    if (world.now >= maxTime) {
      hang = `stalled: not finished within the liveness bound of ${maxTime} virtual ms with ${describeWaiting()}`;
      break;
    }
  }
  for (let i = 0; i < fired.length; i++) if (!fired[i]) counts.skipped++;
  ended = true;

  const finalStates = incs.map((c) => {
    let bytes: Uint8Array | null = null;
    if (!c.dead) {
      try {
        bytes = unwrapState(c.host.captureAppState()).app;
      } catch {
        bytes = c.state ? canonicalOf(c.state.app) : null;
      }
    }
    return bytes;
  });
  // Stop the protocols (their timers); nothing is measured after this, so do not wait on a stop that
  // awaits the (no longer running) virtual clock: one macrotask is enough for in-memory storage.
  const stops = incs.filter((c) => !c.dead).map((c) => c.host.stop().catch(() => null));
  await Promise.race([Promise.all(stops), new Promise((res) => setImmediate(res))]);
  const outputs = Array.from({ length: size }, () => [] as JobOutput[]);
  for (const o of sink.outputs) outputs[o.rank]!.push({ seq: o.seq, bytes: canonical(o.payload) });
  for (const l of outputs) l.sort((a, b) => a.seq - b.seq);
  return {
    protocol: p.protocol.protocolName,
    size,
    seed: p.seed,
    schedule: p.schedule,
    f,
    unrecoverable,
    failure,
    hang,
    histories,
    outputs,
    finalStates,
    done,
    liveAtEnd: incs.map((c) => !c.dead && c.live),
    finished: hang === null && failure === null,
    counts,
    crashes,
    rollbacks,
    maxConcurrent,
    storage,
    trace,
    steps: world.stats.steps,
    net: world.netStats === undefined ? null : { ...world.netStats },
    netWarnings: world.tcpLog.warn + world.tcpLog.error,
    finishedAtStep,
    virtualMs: world.now,
  };
  }

  function describeWaiting(): string {
    const notDone = done.flatMap((d, r) => (d ? [] : [r]));
    const down = incs.flatMap((c, r) => (c.dead ? [r] : []));
    const recovering = incs.flatMap((c, r) => (!c.dead && !c.live ? [r] : []));
    const parts = [`ranks not done: [${notDone.join(", ")}]`];
    if (down.length > 0) parts.push(`down: [${down.join(", ")}]`);
    if (recovering.length > 0) parts.push(`still recovering: [${recovering.join(", ")}]`);
    return parts.join("; ");
  }

  async function sampleStorage(): Promise<void> {
    const log = new Array<number>(size).fill(0);
    const checkpoint = new Array<number>(size).fill(0);
    const checkpoints = new Array<number>(size).fill(0);
    for (const [key, v] of stable) {
      const r = Number(key.slice(0, key.indexOf("/")));
      if (v instanceof MemoryCheckpointStore) {
        for (const i of await v.list()) {
          const c = await v.load(i);
          if (c) checkpoint[r]! += c.app.length + c.protocol.length;
          checkpoints[r]!++;
        }
      } else log[r]! += logBytes(v);
    }
    for (const [key, v] of replicated) log[Number(key.slice(0, key.indexOf("/")))]! += logBytes(v);
    for (let r = 0; r < size; r++) {
      const c = incs[r]!;
      if (c.dead) continue;
      for (const l of c.probe.logs) if (l.medium === "volatile-memory-of-self") log[r]! += await volatileBytes(l);
    }
    storage.push({ time: world.now, log, checkpoint, checkpoints });
  }
}

function logBytes(s: MemoryLogState): number {
  let n = 0;
  for (const r of s.records) n += r.data.length;
  return n;
}

/** The rank's transport, flagging which recorded sends actually left (to tell visible state from invisible). */
function observedTransport(t: Transport, h: RankHistory, dead: () => boolean, onControl: () => void): Transport {
  return {
    rank: t.rank,
    size: t.size,
    send(to: number, frame: Frame): void {
      if (frame.kind === FrameKind.App && !dead()) h.markSent(to, digestOf(frame.payload));
      else if (frame.kind === FrameKind.Control && !dead()) onControl();
      t.send(to, frame);
    },
    on: (events) =>
      t.on({
        ...events,
        frame: (f) => {
          if (f.kind === FrameKind.App && !dead()) h.received.push({ from: f.from, fromIncarnation: f.fromIncarnation, digest: digestOf(f.payload) });
          events.frame(f);
        },
      }),
    close: () => t.close(),
  };
}

async function volatileBytes(l: LogStore): Promise<number> {
  let n = 0;
  for (const r of await l.readAll()) n += r.data.length;
  return n;
}
