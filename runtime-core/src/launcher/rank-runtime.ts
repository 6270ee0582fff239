/**
 * One rank on real infrastructure: TCP transport, disk storage, real timers,
 * a RankHost. Used by the launcher's rank processes and by single-rank mode.
 */
import { environmentFault, type EnvFault } from "../host/env-fault.js";
import type { JobFailure } from "../host/errors.js";
import { loadApp } from "../host/load-app.js";
import type { OutputSink } from "../host/output-sink.js";
import { RankHost, type RankHostEvents } from "../host/rank-host.js";
import type { InboundFrame, Timers, Transport } from "../spi.js";
import { createDiskStorageProvider, type StorageProviderWithClose } from "../storage/provider.js";
import type { PeerAddress } from "./ipc.js";
import { loadProtocol } from "./load-protocol.js";
import { openTcpTransport } from "./tcp-transport.js";
import type { TcpTransport, TlsMaterial } from "../transport/tcp.js";
import { JsonlFile, rankEmitter } from "../trace/writer.js";
import { wireReplication } from "./replication.js";

export interface RankRuntimeParams {
  readonly rank: number;
  readonly size: number;
  readonly incarnation: number;
  readonly f?: number;
  readonly app: string;
  readonly appArgs: readonly string[];
  readonly protocol: string;
  readonly cwd: string;
  readonly storageDir: string;
  /** Root of the nfs-disk medium; default `<storageDir>/shared`. */
  readonly sharedDir?: string;
  /** An earlier incarnation opened this rank's storage: report it missing rather than start afresh. */
  readonly expectStorage?: boolean;
  readonly peers: readonly PeerAddress[];
  readonly secret: Uint8Array;
  /** Interface to listen on (default: this rank's host in `peers`). */
  readonly bindHost?: string;
  /** Mutual TLS under the HMAC handshake (single-rank mode across hosts). */
  readonly tls?: TlsMaterial;
  /** Append this rank's run-trace events to this file (JSONL records, no header). */
  readonly traceFile?: string;
  /** Math.random() and Date.now() throw inside the app's handlers (RankHostOptions.strict). */
  readonly strict?: boolean;
  /** Transport heartbeats (ms) for failure detection without a launcher; 0/undefined = off. */
  readonly heartbeatMs?: number;
  /** This rank's port is taken by another process: see TcpTransportOptions.onPortBusy (default "retry"). */
  readonly onPortBusy?: "retry" | "any";
  /** The transport is bound (before recovery, which may need peers to reach this rank at its real address). */
  readonly listening?: (transport: TcpTransport) => void;
  readonly sink: OutputSink;
  readonly events: RankHostEvents;
  /** Runtime control frames this layer handles itself (e.g. single-rank done gossip); return true if consumed. */
  readonly runtimeFrame?: (frame: InboundFrame) => boolean;
  readonly log: (level: "info" | "warn" | "error", msg: string) => void;
  /** Called with the RankHost before its start (recovery) runs, so its counters can be watched during recovery. */
  readonly onHost?: (host: RankHost) => void;
}

export interface RankRuntime {
  readonly host: RankHost;
  readonly transport: Transport;
  readonly storage: StorageProviderWithClose;
  /** Stop the protocol, close transport and storage; returns the protocol's stats. */
  close(): Promise<ReturnType<RankHost["stop"]> extends Promise<infer S> ? S : never>;
}

export const realTimers: Timers = {
  now: () => performance.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    return () => clearInterval(t);
  },
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export async function startRankRuntime(p: RankRuntimeParams): Promise<RankRuntime> {
  const app = await loadApp(p.app);
  const { factory } = await loadProtocol(p.protocol, p.cwd);
  const transport = await openTcpTransport({
    rank: p.rank,
    size: p.size,
    incarnation: p.incarnation,
    peers: p.peers,
    secret: p.secret,
    bindHost: p.bindHost,
    tls: p.tls,
    heartbeatMs: p.heartbeatMs,
    onPortBusy: p.onPortBusy,
    log: p.log,
  });
  p.listening?.(transport);
  const wiring = wireReplication({
    rank: p.rank,
    size: p.size,
    incarnation: p.incarnation,
    f: p.f ?? factory.defaultF,
    send: (to, fr) => transport.send(to, fr),
  });
  // The first environment fault a disk store hit (disk full, read-only): the cause of whatever failure follows.
  let storageFault: EnvFault | undefined;
  const storage = createDiskStorageProvider({
    dir: p.storageDir,
    sharedDir: p.sharedDir,
    rank: p.rank,
    incarnation: p.incarnation,
    expectStorage: p.expectStorage === true,
    replicated: wiring.replicated,
    media: factory.media,
    // A stolen lock, a torn tail or a stale temp file is what a crash leaves behind: routine, shown with
    // EGIDA_DEBUG; a corrupt checkpoint skipped is worth a warning.
    onWarning: (w) => (typeof w === "string" ? p.log("warn", w) : p.log(w.kind === "corrupt-checkpoint" ? "warn" : "info", w.message)),
    onFault: (e) => {
      storageFault ??= environmentFault(e, "storage");
    },
  });
  const traceOut = p.traceFile ? new JsonlFile(p.traceFile, "a") : null;
  const host = new RankHost({
    rank: p.rank,
    size: p.size,
    incarnation: p.incarnation,
    f: p.f,
    app,
    args: p.appArgs,
    protocol: factory,
    transport,
    storage,
    timers: realTimers,
    sink: p.sink,
    strict: p.strict === true,
    events: {
      ...p.events,
      fatal: (f) => p.events.fatal(blameEnvironment(f, storageFault)),
      peerRestarted: (r, inc) => {
        wiring.peerRestarted(r, inc);
        p.events.peerRestarted?.(r, inc);
      },
    },
    runTrace: traceOut ? rankEmitter(traceOut, p.rank, p.incarnation) : undefined,
    runtimeFrame: (fr) => {
      if (!p.runtimeFrame?.(fr)) wiring.runtimeFrame(fr);
    },
  });
  p.onHost?.(host);
  await host.start();
  return {
    host,
    transport,
    storage,
    async close() {
      let stats = null;
      try {
        stats = await host.stop();
      } finally {
        await transport.close().catch(() => {});
        await storage.close().catch(() => {});
        traceOut?.close();
      }
      return stats;
    },
  };
}

/**
 * A protocol that met a storage error may report it as "unrecoverable" or
 * let it surface as an internal error, with the error reduced to text. If a
 * disk store hit an environment fault first, that fault is the cause: report
 * it, with its file and errno, instead.
 */
export function blameEnvironment(f: JobFailure, fault: EnvFault | undefined): JobFailure {
  if (fault === undefined || (f.kind !== "unrecoverable" && f.kind !== "internal")) return f;
  return { kind: "environment", rank: f.rank, ...fault };
}
