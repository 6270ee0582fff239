/**
 * egida-run over TCP: forks one process per rank on this host (mpirun's job),
 * and is the job's watchdog, output sink and kill switch.
 *
 *  - Ports: the launcher reserves N free ports (listen on 0, close) and hands
 *    every rank the full peer table, so a restarted rank reuses its port and
 *    peers simply reconnect. A rank whose port was taken meanwhile listens
 *    on another and the live ranks are told (peer-table.ts).
 *  - Watchdog: a rank that exits without a shutdown request (crash, signal,
 *    stray exit) is restarted after --restart-delay ms as incarnation + 1, and
 *    the others are told (the transport also notices the reconnect; the
 *    RankHost deduplicates the two).
 *  - Kills: RANK@Kmsgs is executed by the rank itself (it knows its exact
 *    count; it SIGKILLs itself between deliveries), with the count continued
 *    across incarnations; RANK@Tms is a SIGKILL from here.
 *  - Finish: once every rank is done, every rank runs Protocol.finish (a
 *    protocol may still hold outputs waiting for a commit) and the ranks are
 *    stopped only when every current incarnation has finished. The watchdog
 *    stays on meanwhile: a rank that dies is restarted and asked to finish
 *    again once it is live. --finish-timeout bounds the phase.
 *  - Stalls: a job with no progress for --stall-timeout fails with what every
 *    rank is doing (stall-detector.ts; fed by the ranks' progress reports and
 *    by /proc samples of their processes).
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { EnvironmentError } from "../host/env-fault.js";
import { RetractionError, exitCodeOf, type JobFailure } from "../host/errors.js";
import { loadApp } from "../host/load-app.js";
import { IdempotentSink } from "../host/output-sink.js";
import type { FromRank, PeerAddress, RankConfig, ToRank } from "./ipc.js";
import { reportJobFailure } from "./job-end.js";
import { JobState } from "./job-state.js";
import { PeerTable } from "./peer-table.js";
import { checkTolerance, loadProtocol } from "./load-protocol.js";
import { DEFAULT_FINISH_TIMEOUT_MS, type JobOptions } from "./options.js";
import { Reporter, formatSummary } from "./report.js";
import { ProcessWatch, StallDetector, stallWindow } from "./stall-detector.js";
import { onInterrupt } from "./signals.js";
import { prepareStorageDir } from "./storage-dir.js";
import { endRecords, traceFsOp, traceHeader } from "../trace/job-trace.js";
import { wallMs, type TraceBody } from "../trace/records.js";
import { mergeParts, openLauncherPart, rankPartFile } from "../trace/writer.js";
import { rankEnv } from "./rank-env.js";

const RANK_MAIN = fileURLToPath(new URL("./rank-main.js", import.meta.url));
/** A rank that dies this many times in a row before going live is not crashing, it cannot start. */
const MAX_STARTUP_DEATHS = 3;
const SHUTDOWN_GRACE_MS = 5000;

/**
 * Pick `n` distinct ports on `host` that are free now. They are bound by the
 * ranks only seconds later (after start-up, and again on every restart), so
 * they are taken below the kernel's ephemeral range when it leaves room:
 * there no outgoing connection (of this job or any other process) can be
 * given one of them in the meantime. Inside that room the pick is random,
 * so concurrent jobs rarely try the same port; a rank that still finds its
 * port busy retries for a while (TcpTransport.listen).
 */
export async function freePorts(n: number, host: string): Promise<number[]> {
  const [lo] = ephemeralRange();
  const room = lo - RESERVED_MIN;
  const ports: number[] = [];
  const servers: Server[] = [];
  try {
    for (let tries = 0; ports.length < n && room >= 4 * n && tries < 50 * n; tries++) {
      const port = RESERVED_MIN + Math.floor(Math.random() * room);
      if (ports.includes(port)) continue;
      const s = await tryListen(port, host);
      if (s !== null) {
        servers.push(s);
        ports.push(port);
      }
    }
    // No room below the ephemeral range (or it is crowded): let the kernel choose.
    while (ports.length < n) {
      const s = await tryListen(0, host);
      if (s === null) throw new Error(`no free port on ${host}`);
      const a = s.address();
      servers.push(s);
      ports.push(typeof a === "object" && a ? a.port : 0);
    }
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
  return ports;
}

/** Lowest port a picked port may have: above the well-known and common service ports. */
const RESERVED_MIN = 20000;

/** The kernel's ephemeral port range (Linux; elsewhere the IANA default). */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi)) return [lo!, hi!];
  } catch {
    // not Linux
  }
  return [49152, 65535];
}

function tryListen(port: number, host: string): Promise<Server | null> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", (e: NodeJS.ErrnoException) => (e.code === "EADDRINUSE" || e.code === "EACCES" ? res(null) : rej(e)));
    s.listen({ port, host, exclusive: true }, () => res(s));
  });
}

interface Slot {
  child: ChildProcess | null;
  live: boolean;
  /** We asked it to stop (shutdown or job failure): its exit is not a crash. */
  stopping: boolean;
  /** We SIGKILLed it for a --kill RANK@Tms. */
  killedByUs: boolean;
  /** Exact delivery count sent by a self-kill. */
  killingCount: number | null;
  startupDeaths: number;
  killAfter: number | null;
  /** The current incarnation's Protocol.finish resolved. */
  finished: boolean;
  /** Some incarnation went live, so it opened its storage: the next ones must find it. */
  everLive: boolean;
  /** For the recovery line: when it first died since it was last live, the rollbacks seen by then, what its recovery replayed. */
  diedAt: number | null;
  rollbacksAtDeath: number;
  replayed: number | null;
}

export async function runTcpJob(o: JobOptions): Promise<number> {
  // Fail fast, in one process, on a bad app or protocol: no N children printing the same error.
  await loadApp(o.app);
  const proto = await loadProtocol(o.protocol);
  checkTolerance(o.size, o.f ?? proto.factory.defaultF, proto.factory.protocolName);
  const reporter = new Reporter({ output: o.output, quiet: o.quiet });
  for (const n of proto.notes) reporter.event(n);

  const started = performance.now();
  const size = o.size;
  const ownStorage = o.storageDir === undefined;
  const storageDir = o.storageDir ? prepareStorageDir(o.storageDir) : mkdtempSync(join(tmpdir(), "egida-run-"));
  const sharedDir = o.sharedDir === undefined ? undefined : prepareStorageDir(o.sharedDir, "shared storage");
  const ports = await freePorts(size, o.host);
  const peers = new PeerTable(ports.map((port): PeerAddress => ({ host: o.host, port })));
  const secretHex = randomBytes(32).toString("hex");
  const state = new JobState(size, o.kills, started);
  const traceFile = o.traceFile !== undefined ? resolve(o.traceFile) : undefined;
  const traceOut =
    traceFile !== undefined
      ? traceFsOp(() => openLauncherPart(traceFile, traceHeader({ mode: "tcp", size, protocol: proto.factory.protocolName, app: o.app, kills: o.kills })))
      : null;
  /** A launcher record for rank r's current incarnation (kills, restarts). */
  const traceRank = (r: number, b: TraceBody, inc = state.rank(r).incarnation): void => traceOut?.line({ ts: wallMs(), rank: r, inc, ...b });
  const sink = new IdempotentSink();
  const slots: Slot[] = Array.from({ length: size }, () => ({
    child: null,
    live: false,
    stopping: false,
    killedByUs: false,
    killingCount: null,
    startupDeaths: 0,
    killAfter: null,
    finished: false,
    everLive: false,
    diedAt: null,
    rollbacksAtDeath: 0,
    replayed: null,
  }));
  /** "rolled back" notes of every rank so far (the recovery line counts those since the death). */
  let rollbacksSeen = 0;
  const verbose = o.verbose === true || process.env["EGIDA_DEBUG"] !== undefined;
  // The ranks inherit it: their routine storage and connection events show too.
  if (o.verbose === true) process.env["EGIDA_DEBUG"] ??= "1";
  const timers: NodeJS.Timeout[] = [];
  const stall = new StallDetector({ size, now: started, unit: "s", reports: true });
  const procs = new ProcessWatch(stall, size);
  /** Every rank was done once: the finish phase (Protocol.finish on every rank) runs until all have finished. */
  let finishPhase = false;
  /** Shutting down (job over, or failed): exits are not crashes. */
  let finishing = false;
  let resolveEnd!: () => void;
  const ended = new Promise<void>((r) => (resolveEnd = r));

  const fail = (f: JobFailure): void => {
    if (state.failure || finishing) return;
    state.fail(f);
    finishing = true;
    for (const s of slots) {
      s.stopping = true;
      s.child?.kill("SIGKILL");
    }
    resolveEnd();
  };

  const post = (r: number, msg: ToRank): void => {
    const c = slots[r]!.child;
    if (c && c.connected) c.send(msg);
  };

  const configFor = (r: number): RankConfig => ({
    rank: r,
    size,
    incarnation: state.rank(r).incarnation,
    f: o.f,
    app: resolve(o.app),
    appArgs: o.appArgs,
    protocol: o.protocol,
    cwd: process.cwd(),
    storageDir,
    ...(sharedDir === undefined ? {} : { sharedDir }),
    expectStorage: slots[r]!.everLive,
    peers: peers.snapshot(),
    secretHex,
    killAfter: slots[r]!.killAfter,
    traceFile: traceFile !== undefined ? rankPartFile(traceFile, r) : undefined,
    strict: o.strict === true,
  });

  const spawnRank = (r: number): void => {
    const s = slots[r]!;
    s.live = false;
    s.stopping = false;
    s.killedByUs = false;
    s.killingCount = null;
    s.finished = false;
    s.killAfter = state.killAfter(r);
    if (state.rank(r).incarnation > 0) traceRank(r, { ev: "restart" });
    const child = fork(RANK_MAIN, [`--rank=${r}`], {
      env: rankEnv(),
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      execArgv: process.execArgv.filter((a) => !a.startsWith("--inspect")),
    });
    s.child = child;
    stall.spawned(r, state.rank(r).incarnation, performance.now());
    child.on("message", (m: FromRank) => onMessage(r, child, m));
    child.on("exit", (code, signal) => onExit(r, child, code, signal));
    // An IPC send to a child that is dying (it SIGKILLed itself, `connected`
    // not yet false) fails with EPIPE as an 'error' event; unhandled, it killed
    // the launcher (exit 1, found by scripts/real-campaign.ts). Its exit is
    // handled by onExit; nothing else to do.
    child.on("error", () => {});
  };

  const onMessage = (r: number, child: ChildProcess, m: FromRank): void => {
    const s = slots[r]!;
    // A dead incarnation's last messages may arrive after its exit event: its
    // outputs, done and failures still count; its progress is stale.
    const current = s.child === child;
    switch (m.t) {
      case "hello":
        if (current) child.send({ t: "start", config: configFor(r) } satisfies ToRank);
        return;
      case "listening": {
        if (!current) return;
        const moved = peers.listening(r, m.port);
        if (moved !== undefined) reporter.event(`rank ${r}: port ${moved.oldPort} is taken by another process; it listens on ${moved.address.port}, the other ranks are told`);
        // A restarted rank listens again: the ranks that dial it (the higher ones) dial now, not when
        // their re-dial backoff expires (up to a second after it is back, on the recovery's critical path).
        if (moved !== undefined || state.rank(r).incarnation > 0) {
          const address = moved?.address ?? peers.address(r);
          for (let j = 0; j < size; j++) if (j !== r) post(j, { t: "peer-address", rank: r, address });
        }
        return;
      }
      case "live":
        if (!current) return;
        s.live = true;
        s.everLive = true;
        // Start-up (slow on a loaded machine, or loading TypeScript) is not a stall.
        state.lastProgress = performance.now();
        s.startupDeaths = 0;
        if (m.incarnation > 0) {
          // One line per recovery: what it replayed, who rolled back meanwhile, and the time from its death.
          const parts: string[] = [];
          if (s.replayed !== null) parts.push(`${s.replayed} replayed`);
          parts.push(`${rollbacksSeen - s.rollbacksAtDeath} rollback(s) meanwhile`);
          if (s.diedAt !== null) parts.push(`${Math.round(performance.now() - s.diedAt)} ms from its death`);
          reporter.event(`rank ${r} incarnation ${m.incarnation} is live (${parts.join(", ")})`);
        }
        s.diedAt = null;
        s.replayed = null;
        // Restarted during the finish phase: it must finish too (its outputs may be pending again).
        if (finishPhase) post(r, { t: "finish" });
        return;
      case "output":
        try {
          if (sink.accept(m.rank, m.seq, m.payload) === "new") {
            state.rank(r).outputs++;
            stall.progress(performance.now());
            reporter.output(m.rank, m.payload);
          }
        } catch (e) {
          if (e instanceof RetractionError) fail({ kind: "retraction", rank: r, seq: m.seq, message: e.message });
          else if (e instanceof EnvironmentError) fail({ kind: "environment", rank: -1, ...e.fault }); // --output is full or gone
          else throw e;
        }
        return;
      case "done":
        state.rank(r).done = true;
        if (state.allDone) startFinish();
        return;
      case "finished":
        if (!current) return;
        s.finished = true;
        if (slots.every((x) => x.finished)) void finish();
        return;
      case "progress": {
        if (!current) return;
        const now = performance.now();
        state.delivered(r, m.deliveries, now);
        stall.observe(r, m, now);
        stall.cpu(r, m.cpuMs, m.wallMs, now);
        return;
      }
      case "killing":
        if (current) s.killingCount = m.deliveries;
        return;
      case "note":
        if (m.stateLost) {
          // The stall clock starts when it is armed, not at the last delivery before.
          if (!state.stateLost) state.lastProgress = performance.now();
          state.stateLost = true;
          state.rank(r).stateLost = true;
        }
        if (m.text.startsWith("rolled back")) rollbacksSeen++;
        const rec = /^recovered \((\d+) replayed\)/.exec(m.text);
        if (rec !== null && current) s.replayed = Number(rec[1]);
        // Protocol internals (a recovery's steps, checkpoint rounds) only with --verbose or EGIDA_DEBUG.
        if (m.detail === true && !verbose) return;
        reporter.event(`rank ${r}: ${m.text}`);
        return;
      case "fatal":
        fail(m.failure);
        return;
      case "stats":
        if (!current) return;
        state.rank(r).stats = m.stats;
        if (m.logSyncs !== undefined) state.rank(r).logSyncs = m.logSyncs;
        state.delivered(r, m.deliveries, performance.now());
        return;
    }
  };

  const onExit = (r: number, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void => {
    const s = slots[r]!;
    if (s.child !== child) return;
    s.child = null;
    if (s.stopping || finishing) return;
    stall.died(r, state.rank(r).incarnation, performance.now());
    if (s.diedAt === null) {
      s.diedAt = performance.now();
      s.rollbacksAtDeath = rollbacksSeen;
    }
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (!s.live) {
      if (++s.startupDeaths >= MAX_STARTUP_DEATHS) {
        fail({ kind: "internal", rank: r, message: `rank ${r} died ${s.startupDeaths} times before going live (last: ${how})`, stack: "" });
        return;
      }
    }
    // A count kill is executed by the rank itself (SIGKILL we did not send, with
    // a kill armed); its exact count is the threshold we gave it.
    let exact: number | undefined;
    const selfKilled = signal === "SIGKILL" && !s.killedByUs && s.killAfter !== null;
    if (selfKilled) {
      exact = s.killingCount ?? s.killAfter!;
      const total = state.rank(r).deliveredBefore + exact;
      const k = state.takeCountKill(r, total);
      reporter.event(`--kill ${k?.text ?? "?"}: rank ${r} killed at its delivery ${total} (incarnation ${state.rank(r).incarnation})`);
      traceRank(r, { ev: "kill", why: `--kill ${k?.text ?? "?"} (at its delivery ${total})` });
    } else if (!s.killedByUs) {
      reporter.event(`watchdog: rank ${r} died (${how})`);
      traceRank(r, { ev: "kill", why: `died (${how})` });
    }
    const next = state.died(r, exact);
    reporter.event(`watchdog: restarting rank ${r} as incarnation ${next} in ${o.restartDelayMs} ms`);
    timers.push(
      setTimeout(() => {
        if (finishing) return;
        spawnRank(r);
        for (let j = 0; j < size; j++) if (j !== r) post(j, { t: "peer-restart", rank: r, incarnation: next });
      }, o.restartDelayMs),
    );
  };

  const startFinish = (): void => {
    if (finishPhase || finishing) return;
    finishPhase = true;
    for (let r = 0; r < size; r++) if (slots[r]!.live) post(r, { t: "finish" });
    const limit = o.finishTimeoutMs ?? DEFAULT_FINISH_TIMEOUT_MS;
    timers.push(
      setTimeout(() => {
        const waiting = slots.flatMap((x, r) => (x.finished ? [] : [r]));
        fail({
          kind: "timeout",
          rank: -1,
          message: `finish: every rank was done, but ranks ${waiting.join(", ")} did not release their pending outputs within ${limit} ms (Protocol.finish)`,
        });
      }, limit),
    );
  };

  const finish = async (): Promise<void> => {
    if (finishing) return;
    finishing = true;
    const exits = slots.map(
      (s) =>
        new Promise<void>((res) => {
          const c = s.child;
          if (!c || c.exitCode !== null || c.signalCode !== null) return res();
          s.stopping = true;
          c.once("exit", () => res());
          if (c.connected) c.send({ t: "shutdown" } satisfies ToRank);
          else c.kill("SIGKILL");
        }),
    );
    const grace = setTimeout(() => {
      for (const s of slots) s.child?.kill("SIGKILL");
    }, SHUTDOWN_GRACE_MS);
    await Promise.all(exits);
    clearTimeout(grace);
    resolveEnd();
  };

  for (const spec of state.timeKills()) {
    timers.push(
      setTimeout(() => {
        const s = slots[spec.rank]!;
        if (finishing || !s.child || !state.markTimeKillFired(spec)) return;
        s.killedByUs = true;
        reporter.event(`--kill ${spec.text}: SIGKILL rank ${spec.rank} (incarnation ${state.rank(spec.rank).incarnation})`);
        traceRank(spec.rank, { ev: "kill", why: `--kill ${spec.text}` });
        s.child.kill("SIGKILL");
      }, spec.atMs),
    );
  }
  if (o.timeoutMs !== undefined) {
    timers.push(
      setTimeout(
        () => fail({ kind: "timeout", rank: -1, message: `not done after ${o.timeoutMs} ms; ranks ${state.notDone().join(", ")} not done` }),
        o.timeoutMs,
      ),
    );
  }
  const stallCheck = setInterval(() => {
    const now = performance.now();
    // Rank processes seen from outside (CPU, SIGSTOP): their own reports stop while they compute synchronously.
    procs.sampleAll(slots.map((x) => x.child?.pid), now);
    // Finishing needs no deliveries (commit rounds only); the finish timeout bounds it.
    const why = finishPhase ? null : stall.check(now, stallWindow(o.stallTimeoutMs, state.stateLost), state.lastProgress);
    if (why !== null) fail({ kind: "timeout", rank: -1, message: why });
  }, 100);
  const offInterrupt = onInterrupt((signal) => fail({ kind: "interrupted", rank: -1, signal }));

  for (let r = 0; r < size; r++) spawnRank(r);
  await ended;

  clearInterval(stallCheck);
  for (const t of timers) clearTimeout(t);
  offInterrupt();
  reporter.close();
  if (traceOut !== null && traceFile !== undefined) {
    for (const rec of endRecords(state.failure, state.failure ? exitCodeOf(state.failure) : 0)) traceOut.line(rec);
    traceOut.close();
    traceFsOp(() => mergeParts(traceFile));
  }
  if (state.failure) return reportJobFailure(reporter, state.failure, storageDir);
  if (ownStorage && o.keepStorage !== true) rmSync(storageDir, { recursive: true, force: true });
  reporter.event(formatSummary(proto.factory.protocolName, state.summaries(), performance.now() - started));
  if (ownStorage && o.keepStorage === true) reporter.event(`storage kept in ${storageDir}`);
  return 0;
}
