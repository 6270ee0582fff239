/**
 * A rank process forked by egida-run. Waits for its RankConfig over IPC,
 * runs the rank, and reports outputs, done, progress, notes and failures
 * back. It never decides the job's fate: the launcher does.
 */
import { ReportedError, errorText, type JobFailure } from "../host/errors.js";
import { environmentFault } from "../host/env-fault.js";
import { StorageError, StorageMissingError, UnsupportedMediumError } from "../storage/errors.js";
import { INTERRUPT_SIGNALS } from "./signals.js";
import type { OutputSink } from "../host/output-sink.js";
import type { TcpTransport } from "../transport/tcp.js";
import { LIVE_RESET, type FromRank, type PeerAddress, type RankConfig, type ToRank } from "./ipc.js";
import { startRankRuntime, type RankRuntime } from "./rank-runtime.js";
import type { RankHost } from "../host/rank-host.js";
import { HEARTBEAT_MS, type RankActivity, type RankPhase } from "./stall-detector.js";

/** How often a change of counts or phase goes to the launcher (progress, stall detection). */
const PROGRESS_MS = 100;

function send(msg: FromRank, cb?: (err: Error | null) => void): void {
  if (!process.connected) return;
  process.send!(msg, undefined, undefined, cb);
}

let failed = false;
function fatal(failure: JobFailure): void {
  if (failed) return;
  failed = true;
  send({ t: "fatal", failure });
}

async function run(cfg: RankConfig): Promise<void> {
  let runtime: RankRuntime | null = null;
  /** Set before start() runs, so a recovery's replayed deliveries are watched too. */
  let host: RankHost | null = null;
  let phase: RankPhase = cfg.incarnation > 0 ? "recovering" : "starting";
  let outputs = 0;
  let note: string | undefined;
  const sink: OutputSink = {
    emit(rank, seq, payload) {
      outputs++;
      // Released once it is on the IPC channel: the launcher (the environment) reads it even if we die next.
      return new Promise((resolve, reject) => send({ t: "output", rank, seq, payload }, (err) => (err ? reject(err) : resolve())));
    },
  };
  const log = (level: string, msg: string): void => {
    // EGIDA_DEBUG=1 also shows the transport's connection events.
    if (level !== "info" || process.env["EGIDA_DEBUG"]) process.stderr.write(`rank ${cfg.rank}: ${level}: ${msg}\n`);
  };
  // Progress report: on any change, and a heartbeat with the CPU used meanwhile (a rank that
  // computes between messages is not stalled; one whose reports stop is blocked or stopped).
  let last: RankActivity | null = null;
  let lastAt = performance.now();
  let lastCpu = process.cpuUsage();
  const progress = setInterval(() => {
    const act: RankActivity = { incarnation: cfg.incarnation, phase, deliveries: host?.deliveryCount ?? 0, sends: host?.sendCount ?? 0, outputs, note };
    const now = performance.now();
    const changed = last === null || act.phase !== last.phase || act.deliveries !== last.deliveries || act.sends !== last.sends || act.outputs !== last.outputs || act.note !== last.note;
    if (!changed && now - lastAt < HEARTBEAT_MS) return;
    const cpu = process.cpuUsage();
    const cpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
    lastCpu = cpu;
    send({ t: "progress", rank: cfg.rank, cpuMs, wallMs: now - lastAt, ...act });
    last = act;
    lastAt = now;
  }, PROGRESS_MS);
  progress.unref();

  // A peer moved to another port (its own was taken): addresses that arrive before our transport exists wait here.
  let transport: TcpTransport | null = null;
  const moved = new Map<number, PeerAddress>();

  // Every rank is done: complete the protocol's pending output commits, then say so.
  let finishAsked = false;
  const finish = (rt: RankRuntime): void => {
    phase = "finishing";
    rt.host.finish().then(
      () => {
        phase = "finished";
        send({ t: "finished", rank: cfg.rank, incarnation: cfg.incarnation });
      },
      (e: unknown) => {
        if (e instanceof ReportedError) return;
        const { message, stack } = errorText(e);
        fatal({ kind: "internal", rank: cfg.rank, message: `finish: ${message}`, stack });
      },
    );
  };
  process.on("message", (raw: ToRank) => {
    if (raw.t === "peer-restart") runtime?.host.peerRestarted(raw.rank, raw.incarnation);
    else if (raw.t === "peer-address") {
      if (transport) transport.setPeerAddress(raw.rank, raw.address);
      else moved.set(raw.rank, raw.address);
    }
    else if (raw.t === "finish") {
      if (finishAsked) return;
      finishAsked = true;
      if (runtime) finish(runtime);
    } else if (raw.t === "shutdown") void shutdown();
  });

  const shutdown = async (): Promise<void> => {
    clearInterval(progress);
    let stats = null;
    try {
      stats = runtime ? await runtime.close() : null;
    } catch (e) {
      if (!(e instanceof ReportedError)) {
        const { message, stack } = errorText(e);
        fatal({ kind: "internal", rank: cfg.rank, message: `shutdown: ${message}`, stack });
      }
    }
    send({ t: "stats", rank: cfg.rank, deliveries: runtime?.host.deliveryCount ?? 0, stats, logSyncs: runtime?.storage.logSyncs() ?? 0 }, () => process.exit(0));
  };

  // Set once protocol.start() resolved: a state reset after it is a rollback of a live process.
  let live = false;
  try {
    runtime = await startRankRuntime({
      ...cfg,
      secret: Buffer.from(cfg.secretHex, "hex"),
      // The launcher relays a new port to the peers, so a process squatting ours cannot keep this rank away.
      onPortBusy: "any",
      listening: (t) => {
        transport = t;
        send({ t: "listening", rank: cfg.rank, port: t.address.port });
        for (const [r, a] of moved) t.setPeerAddress(r, a);
        moved.clear();
      },
      sink,
      log,
      onHost: (h) => (host = h),
      events: {
        fatal,
        done: (rank) => {
          if (phase === "running") phase = "done";
          send({ t: "done", rank });
        },
        delivered: (count) => {
          if (cfg.killAfter !== null && count >= cfg.killAfter) {
            // The kill lands exactly here, between deliveries; the count goes first so the launcher can continue it.
            send({ t: "killing", rank: cfg.rank, deliveries: count });
            process.kill(process.pid, "SIGKILL");
          }
        },
        note: (e) => {
          if (e.type === "checkpoint") return;
          const text = e.type === "protocol" ? e.what : e.type === "recover" ? `recovered (${e.replayed} replayed)` : e.type === "rollback" ? `rolled back: ${e.reason}` : e.type;
          note = text;
          const stateLost = e.type === "protocol" && e.what.startsWith("state lost");
          send({ t: "note", rank: cfg.rank, text, stateLost, detail: e.type === "protocol" && !stateLost });
        },
        appReset: (how) => {
          if (live) send({ t: "note", rank: cfg.rank, text: `${LIVE_RESET} (${how})`, stateLost: false });
        },
      },
    });
    live = true;
    // The app may have called done during onStart or replay, before start() resolved.
    if (phase === "starting" || phase === "recovering") phase = runtime.host.isDone ? "done" : "running";
    send({ t: "live", rank: cfg.rank, incarnation: cfg.incarnation });
    if (finishAsked) finish(runtime);
  } catch (e) {
    if (e instanceof ReportedError) return;
    fatal(failureOf(e, cfg.rank, "rank start-up failed: "));
  }
}

/**
 * Damaged or locked storage (a corrupt log or checkpoint, a lock held by a
 * live incarnation) is not a bug in egida: the rank cannot recover from it,
 * and the user gets the file and offset the storage error names, no stack.
 */
function failureOf(e: unknown, rank: number, context: string): JobFailure {
  // Disk full, read-only, no permission: checked first, a failed log's StorageError may wrap one.
  // (StorageMissingError never wraps one: the manifests found the loss, no system call failed.)
  const env = environmentFault(e);
  if (env !== undefined) return { kind: "environment", rank, ...env };
  if (e instanceof StorageMissingError) {
    const why = "recovering without it would silently restart the rank, and through rollbacks the job, from an older or the initial state";
    return { kind: "unrecoverable", rank, reason: `rank ${rank}: ${e.message} (${why}: restore it, or start the job with a fresh --storage-dir)` };
  }
  if (e instanceof UnsupportedMediumError) return { kind: "unrecoverable", rank, reason: `rank ${rank}: ${e.message}` };
  if (e instanceof StorageError) {
    return { kind: "unrecoverable", rank, reason: `rank ${rank}: ${e.message} (the rank's storage is damaged or in use: nothing was used from it; restore it or start with a fresh --storage-dir)` };
  }
  const { message, stack } = errorText(e);
  return { kind: "internal", rank, message: `${context}${message}`, stack };
}

process.on("uncaughtException", (e) => {
  if (e instanceof ReportedError) return;
  fatal(failureOf(e, rankOf, ""));
});
process.on("unhandledRejection", (e) => {
  // ReportedError rejections are the unwinding of an already-reported failure.
  if (e instanceof ReportedError) return;
  fatal(failureOf(e, rankOf, "unhandled rejection: "));
});
// The launcher died: nobody will restart or stop us, so do not linger.
process.on("disconnect", () => process.exit(1));
// Ctrl-C in a terminal (or a stop of the whole process group) reaches every
// rank as well as the launcher. The launcher decides: it stops the job and
// keeps the storage. Dying here first would look like a crash to its watchdog.
for (const sig of INTERRUPT_SIGNALS) process.on(sig, () => {});

let rankOf = -1;
// Wait for "start", whatever comes first: the launcher also posts a peer's
// restart to every connected child, and a peer killed early is restarted
// while this process may still be loading (before its hello was answered).
// Taking that as the first message with `once` left the rank never started and
// the job hung. Such early restarts need no action: the transport learns each
// peer's incarnation when it connects.
const beforeStart = (msg: ToRank): void => {
  if (msg.t === "shutdown") process.exit(0);
  if (msg.t !== "start") return;
  process.off("message", beforeStart);
  rankOf = msg.config.rank;
  void run(msg.config);
};
process.on("message", beforeStart);
send({ t: "hello" });
