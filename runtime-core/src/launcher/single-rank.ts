/**
 * Single-rank mode: `egida-run --rank R --peers h:p,... APP` (or
 * `--discover kubernetes|slurm --port P APP`, discover.ts) runs one rank in
 * this process, so an existing supervisor (systemd, Slurm srun, a Kubernetes
 * Indexed Job) starts it on each host and restarts it when it dies
 * (examples/deploy/, docs/deploy.md). There is no orchestrator: the pieces
 * the launcher normally provides are replaced by
 *
 *  - incarnation: --incarnation, or the next number recorded in
 *    <storage-dir>/incarnation-rank-R (bumped atomically at every start);
 *  - failure detection: transport heartbeats and reconnects;
 *  - job end: each rank broadcasts a runtime control frame when its app calls
 *    done() (and re-sends it to a peer that restarts); once a rank knows every
 *    rank is done it runs Protocol.finish (pending output commits: rank 0 may
 *    need every rank for them) and broadcasts a second frame when that
 *    resolved; it exits 0 once every rank has finished, after a short linger
 *    so its last frames leave;
 *  - output sink: lines {"rank","seq","data"} on stdout / appended to
 *    --output FILE; a restarted rank reloads FILE, so it drops outputs an
 *    earlier incarnation already released and reports a retraction.
 *
 * Exit codes are the launcher's (1 application error, 2 usage, 3
 * unrecoverable, 4 retraction, 6 internal, 7 environment; 130/143 after
 * SIGINT/SIGTERM), so a supervisor can be told not to restart on them
 * (systemd: RestartPreventExitStatus=1 2 3 4 6 7); a crash is a signal or any
 * other code.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { EnvironmentError, describeEnvFault, environmentFault } from "../host/env-fault.js";
import { EXIT_CODES, describeFailure, exitCodeOf, type InterruptSignal, type JobFailure } from "../host/errors.js";
import type { OutputSink } from "../host/output-sink.js";
import { FrameKind, type InboundFrame } from "../spi.js";
import { DEFAULT_FINISH_TIMEOUT_MS, type SingleRankOptions } from "./options.js";
import { startRankRuntime, type RankRuntime } from "./rank-runtime.js";
import { Reporter, decodeOutput } from "./report.js";
import { onInterrupt } from "./signals.js";
import { prepareStorageDir } from "./storage-dir.js";
import { loadTlsFiles, TlsFilesError } from "./tls-files.js";
import type { TlsMaterial } from "../transport/tcp.js";
import { TRACE_SCHEMA, TRACE_VERSION, wallMs, type TraceHeader } from "../trace/records.js";

/** Runtime control tag of "this rank is done" (in the runtime's range, >= RUNTIME_TAG_BASE). */
export const DONE_TAG = 0xfff0;
/** Runtime control tag of "this rank's Protocol.finish resolved" (its outputs are released). */
export const FINISHED_TAG = 0xfff1;
const LINGER_MS = 300;
const HEARTBEAT_MS = 1000;
const EMPTY = new Uint8Array(0);

function nextIncarnation(dir: string, rank: number): number {
  const f = join(dir, `incarnation-rank-${rank}`);
  try {
    const last = existsSync(f) ? Number(readFileSync(f, "utf8").trim()) : -1;
    const next = Number.isInteger(last) ? last + 1 : 0;
    const tmp = `${f}.${process.pid}.tmp`;
    writeFileSync(tmp, `${next}\n`, { flush: true });
    renameSync(tmp, f);
    return next;
  } catch (e) {
    const env = environmentFault(e, "storage");
    throw env ? new EnvironmentError({ ...env, op: "record the incarnation in", file: f }, e) : e;
  }
}

/**
 * Shortest job secret accepted. The secret keys the HMAC handshake that keeps
 * strangers off the ranks' ports; a short one can be guessed offline from one
 * recorded handshake.
 */
export const MIN_SECRET_BYTES = 16;
const MAKE_SECRET = "make one with `head -c 32 /dev/urandom > secret` or `openssl rand -hex 32 > secret`";

function readSecret(o: SingleRankOptions): Uint8Array | string {
  let secret: Uint8Array;
  let from: string;
  if (o.secretFile) {
    const file = resolve(o.secretFile);
    try {
      secret = readFileSync(file);
    } catch (e) {
      const env = environmentFault(e, "secret file");
      throw env ? new EnvironmentError({ ...env, op: "read secret file", file }, e) : e;
    }
    from = `--secret-file ${o.secretFile}`;
  } else {
    const env = process.env["EGIDA_SECRET"];
    if (!env) return "single-rank mode needs the job's secret: --secret-file FILE or env EGIDA_SECRET (the same on every rank)";
    secret = Buffer.from(env, "utf8");
    from = "EGIDA_SECRET";
  }
  if (secret.byteLength < MIN_SECRET_BYTES) {
    return `the job secret (${from}) is ${secret.byteLength} bytes, it must be at least ${MIN_SECRET_BYTES}: ${MAKE_SECRET}, and give every rank the same one`;
  }
  return secret;
}

/** Outputs this rank released before (by seq), from an existing --output file. */
function releasedBefore(file: string | undefined, rank: number): Map<number, string> {
  const m = new Map<number, string>();
  if (!file || !existsSync(file)) return m;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      const o = JSON.parse(line) as { rank?: number; seq?: number; data?: unknown };
      if (o.rank === rank && typeof o.seq === "number") m.set(o.seq, JSON.stringify(o.data));
    } catch {
      // A torn last line from a crash mid-write: that output was not released.
    }
  }
  return m;
}

export async function runSingleRank(o: SingleRankOptions): Promise<number> {
  const say = (m: string): void => void process.stderr.write(`egida-run[rank ${o.rank}]: ${m}\n`);
  if (o.incarnation === undefined && o.storageDir === undefined) {
    say("error: single-rank mode needs --storage-dir (stable storage, and where the incarnation is counted) or --incarnation");
    return EXIT_CODES.usage;
  }
  // Ctrl-C or a supervisor's stop: close the rank (its storage stays as it is) and exit 130 / 143.
  let interrupted: InterruptSignal | null = null;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  const offInterrupt = onInterrupt((signal) => {
    interrupted = signal;
    finish(EXIT_CODES[signal]);
  });
  let secret: Uint8Array | string;
  let storageDir: string;
  let sharedDir: string | undefined;
  let tls: TlsMaterial | undefined;
  let incarnation: number;
  try {
    secret = readSecret(o);
    if (typeof secret === "string") {
      offInterrupt();
      say(`error: ${secret}`);
      return EXIT_CODES.usage;
    }
    tls = o.tls === undefined ? undefined : loadTlsFiles(o.tls);
    storageDir = prepareStorageDir(o.storageDir ?? join(process.cwd(), `.egida-rank-${o.rank}`));
    sharedDir = o.sharedDir === undefined ? undefined : prepareStorageDir(o.sharedDir, "shared storage");
    incarnation = o.incarnation ?? nextIncarnation(storageDir, o.rank);
  } catch (e) {
    offInterrupt();
    if (e instanceof TlsFilesError) {
      say(`error: ${e.message}`);
      return EXIT_CODES.usage;
    }
    if (!(e instanceof EnvironmentError)) throw e;
    say(describeEnvFault(e.fault, o.rank));
    return EXIT_CODES.environment;
  }
  const size = o.peers.length;
  const reporter = new Reporter({ output: o.output, quiet: o.quiet, append: true });
  const released = releasedBefore(o.output, o.rank);
  const doneRanks = new Set<number>();
  let runtime: RankRuntime | null = null;
  let selfDone = false;
  const finishedRanks = new Set<number>();
  let finishStarted = false;
  let selfFinished = false;
  let finishTimer: NodeJS.Timeout | null = null;
  let failure: JobFailure | null = null;

  const fail = (f: JobFailure): void => {
    if (failure || interrupted) return;
    failure = f;
    // An environment fault names its own kind ("storage error on rank 2: ..."); its storage is kept as it is.
    if (f.kind === "environment") say(`${describeFailure(f)}; storage kept in ${storageDir}`);
    else say(`error: ${describeFailure(f)}`);
    finish(exitCodeOf(f));
  };
  const sendDone = (to: number): void => {
    runtime?.transport.send(to, { kind: FrameKind.Control, tag: DONE_TAG, piggyback: EMPTY, payload: EMPTY });
  };
  const sendFinished = (to: number): void => {
    runtime?.transport.send(to, { kind: FrameKind.Control, tag: FINISHED_TAG, piggyback: EMPTY, payload: EMPTY });
  };
  const checkAllFinished = (): void => {
    if (selfFinished && finishedRanks.size === size - 1) {
      if (finishTimer) clearTimeout(finishTimer);
      setTimeout(() => finish(0), LINGER_MS);
    }
  };
  // Every rank is done: this rank stays up (its peers may need it for their commits) until every rank finished.
  const checkAllDone = (): void => {
    if (!selfDone || doneRanks.size !== size - 1 || finishStarted || !runtime) return;
    finishStarted = true;
    finishTimer = setTimeout(
      () => fail({ kind: "timeout", rank: o.rank, message: `finish: every rank was done, but the pending outputs were not all released within ${DEFAULT_FINISH_TIMEOUT_MS} ms (Protocol.finish)` }),
      DEFAULT_FINISH_TIMEOUT_MS,
    );
    runtime.host.finish().then(
      () => {
        selfFinished = true;
        for (let r = 0; r < size; r++) if (r !== o.rank) sendFinished(r);
        checkAllFinished();
      },
      (e: unknown) => {
        const msg = e instanceof Error ? e.message : String(e);
        if (!runtime?.host.failure) fail({ kind: "internal", rank: o.rank, message: `finish: ${msg}`, stack: "" });
      },
    );
  };
  const sink: OutputSink = {
    emit(rank, seq, payload) {
      const data = decodeOutput(payload);
      const json = JSON.stringify(data);
      const prev = released.get(seq);
      if (prev === undefined) {
        released.set(seq, json);
        reporter.outputJson(rank, data, { seq });
      } else if (prev !== json) {
        fail({ kind: "retraction", rank, seq, message: `output seq ${seq} was released before as ${prev}, now ${json}` });
      }
      return Promise.resolve();
    },
  };

  // The header once, when this rank's first incarnation creates the file; later ones append.
  if (o.traceFile !== undefined && !existsSync(o.traceFile)) {
    const header: TraceHeader = { schema: TRACE_SCHEMA, version: TRACE_VERSION, size, protocol: o.protocol, mode: "single", app: o.app, startedAt: wallMs(), rank: o.rank };
    writeFileSync(o.traceFile, JSON.stringify(header) + "\n");
  }
  const from = o.discovered === undefined ? "" : ` (${o.discovered})`;
  const over = tls === undefined ? "" : " over mutual TLS";
  say(`starting incarnation ${incarnation} of ${size} ranks${from}, listening on ${o.bindHost}:${o.peers[o.rank]!.port}${over}`);
  try {
    runtime = await startRankRuntime({
      rank: o.rank,
      size,
      incarnation,
      f: o.f,
      app: o.app,
      appArgs: o.appArgs,
      protocol: o.protocol,
      cwd: process.cwd(),
      storageDir,
      sharedDir,
      peers: o.peers,
      bindHost: o.bindHost,
      tls,
      secret,
      strict: o.strict === true,
      traceFile: o.traceFile,
      sink,
      heartbeatMs: HEARTBEAT_MS,
      log: (level, msg) => {
        if (level !== "info") say(`${level}: ${msg}`);
      },
      runtimeFrame: (fr: InboundFrame) => {
        if (fr.tag === FINISHED_TAG) {
          finishedRanks.add(fr.from);
          checkAllFinished();
          return true;
        }
        if (fr.tag !== DONE_TAG) return false;
        doneRanks.add(fr.from);
        checkAllDone();
        return true;
      },
      events: {
        fatal: fail,
        done: () => {
          selfDone = true;
          for (let r = 0; r < size; r++) if (r !== o.rank) sendDone(r);
          checkAllDone();
        },
        peerRestarted: (r, inc) => {
          say(`rank ${r} restarted as incarnation ${inc}`);
          // The new incarnation forgot who is done and finished; tell it again (and it must finish again).
          doneRanks.delete(r);
          finishedRanks.delete(r);
          if (selfDone) sendDone(r);
          if (selfFinished) sendFinished(r);
        },
        note: (e) => {
          if (e.type !== "checkpoint") say(e.type === "protocol" ? e.what : e.type);
        },
      },
    });
    // Every rank may have been done before this rank went live (finish needs a live protocol).
    checkAllDone();
  } catch (e) {
    if (!failure) {
      const env = environmentFault(e);
      if (env) fail({ kind: "environment", rank: o.rank, ...env });
      else {
        const msg = e instanceof Error ? e.message : String(e);
        fail({ kind: "internal", rank: o.rank, message: `start-up failed: ${msg}`, stack: "" });
      }
    }
  }
  const code = await finished;
  try {
    await runtime?.close();
  } catch {
    // Closing after a failure may fail again; the exit code already says what happened.
  }
  offInterrupt();
  reporter.close();
  if (interrupted) say(`interrupted (${interrupted}); storage kept in ${storageDir}`);
  if (code === 0) say("every rank is done");
  return code;
}
