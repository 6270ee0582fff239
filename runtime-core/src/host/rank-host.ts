/**
 * RankHost: the runtime side of the protocol SPI for one rank and one
 * incarnation. It owns the application instance (its state and its
 * AppContext), and sits between the protocol, the transport and the output
 * sink. A restart is a new RankHost with incarnation + 1.
 *
 * Failure classes are kept apart on purpose:
 *  - an exception from the application is an application error: the job
 *    fails with the rank and the stack (rerunning deterministic code would
 *    throw again, so it is not a crash to recover from);
 *  - the protocol breaking the SPI contract (overlapping deliveries, state
 *    capture mid-delivery) is an internal error;
 *  - host.unrecoverable() and output retractions have their own kinds.
 * Each is reported once through `events.fatal`; afterwards the host is inert.
 */
import { decodeValue, encodeAppState, encodeValue } from "./value-codec.js";
import { takeWarm } from "../protocol-lib/warm.js";
import { cloneError } from "./clone-error.js";
import {
  FrameKind,
  RUNTIME_TAG_BASE,
  type App,
  type AppContext,
  type InboundFrame,
  type Protocol,
  type ProtocolFactory,
  type ProtocolHost,
  type ProtocolStats,
  type StorageProvider,
  type Timers,
  type TraceEvent,
  type Transport,
} from "../spi.js";
import { canonicalDigest } from "./canonical.js";
import { DeliveredRing } from "./divergence.js";
import { inStrictHandler, outsideStrictHandler } from "./strict.js";
import {
  ProtocolContractError,
  ReportedError,
  RetractionError,
  describeFailure,
  UnrecoverableError,
  errorText,
  type JobFailure,
} from "./errors.js";
import { environmentFault } from "./env-fault.js";
import type { OutputSink } from "./output-sink.js";
import { StateLostError, StorageError, StorageMissingError, UnsupportedMediumError } from "../storage/errors.js";
import type { TraceEmit } from "../trace/records.js";
import { messageId, tagPayload, untagPayload } from "../trace/message-id.js";
import { traceStorage } from "../trace/traced-storage.js";

export interface RankHostEvents {
  /** The job must stop. Called at most once per host. */
  fatal(failure: JobFailure): void;
  /** The app called ctx.done(); once per incarnation. */
  done?(rank: number): void;
  /** A delivery's onMessage settled; `count` is this incarnation's delivery count (replays included). */
  delivered?(count: number): void;
  /** Trace events other than deliver/send/output (recover, rollback, checkpoint, protocol notes), for logs. */
  note?(event: TraceEvent): void;
  /** The transport reports a peer unreachable. */
  peerDown?(rank: number): void;
  /** A peer came back as a new incarnation (after the protocol was told). */
  peerRestarted?(rank: number, incarnation: number): void;
  /**
   * The protocol (re)set the app's state: initApp or restoreAppState. After
   * the rank went live this is a rollback of a process that had not failed,
   * seen by the host whatever the protocol traces (the real-process campaign
   * judges "no survivor rollback" by it).
   */
  appReset?(how: "initApp" | "restoreAppState"): void;
}

export interface RankHostOptions {
  readonly rank: number;
  readonly size: number;
  /** 0 for a first run, +1 per restart. */
  readonly incarnation: number;
  /** Failures to tolerate; defaults to the factory's defaultF. */
  readonly f?: number;
  readonly app: App<unknown>;
  /** APP_ARGS passed to init. */
  readonly args?: readonly string[];
  readonly protocol: ProtocolFactory;
  readonly transport: Transport;
  readonly storage: StorageProvider;
  readonly timers: Timers;
  readonly sink: OutputSink;
  readonly events: RankHostEvents;
  /** Full trace (deliver digests included). Deliver digests are only computed when this is set. */
  readonly trace?: (event: TraceEvent) => void;
  /**
   * The run trace (`egida-run --trace FILE`), bound to this rank and
   * incarnation. When set, application payloads carry a message id (see
   * trace/message-id.ts) and storage flushes and checkpoint commits are seen.
   * Unset: no trace event is built.
   */
  readonly runTrace?: TraceEmit;
  /**
   * Handler for Control frames with tag >= RUNTIME_TAG_BASE (replicated
   * storage, heartbeats). Defaults to `storage.onRuntimeFrame` when the
   * storage provider has one.
   */
  readonly runtimeFrame?: (frame: InboundFrame) => void;
  /** `--strict`: Math.random() and Date.now() throw inside the app's handlers (host/strict.ts). */
  readonly strict?: boolean;
}

/** A storage provider that also consumes runtime control frames (e.g. the replicated log). */
interface RuntimeFrameConsumer {
  onRuntimeFrame(frame: InboundFrame): void;
}

/**
 * A StateLostError from the storage layer. Matched by name as well, so a copy of
 * the storage module loaded twice (source and dist in one process) is still recognised.
 */
function isStateLost(e: unknown): e is Error {
  return e instanceof StateLostError || (e instanceof Error && e.name === "StateLostError");
}

/**
 * Damaged or locked storage (a corrupt log or checkpoint, a lock held by a
 * live incarnation) ends the job as unrecoverable, naming the file and offset
 * the storage error gives: it is not a bug in egida, and nothing from the
 * damaged file was used.
 */
function storageFailure(e: unknown): string | undefined {
  if (isStateLost(e)) return e.message;
  if (e instanceof StorageMissingError) {
    return `${e.message} (recovering without it would silently restart the rank, and through rollbacks the job, from an older or the initial state: restore it, or start the job with a fresh --storage-dir)`;
  }
  // The protocol names a medium no store provides: the package, not the storage, is at fault.
  if (e instanceof UnsupportedMediumError) return e.message;
  if (e instanceof StorageError) return `${e.message} (the rank's storage is damaged or in use, and nothing was used from it: restore it, or start the job with a fresh --storage-dir)`;
  return undefined;
}

const RESOLVED: Promise<void> = Promise.resolve();
/** What a crashed host returns: the process is gone, so nothing it awaited ever completes. */
const NEVER: Promise<never> = new Promise<never>(() => {});

export class RankHost implements ProtocolHost {
  readonly rank: number;
  readonly size: number;
  readonly incarnation: number;
  readonly f: number;
  readonly transport: Transport;
  readonly storage: StorageProvider;
  readonly timers: Timers;

  private readonly app: App<unknown>;
  private readonly args: readonly string[];
  private readonly factory: ProtocolFactory;
  private readonly sink: OutputSink;
  private readonly events: RankHostEvents;
  private readonly traceFn: ((event: TraceEvent) => void) | undefined;
  /** ProtocolHost.tracing: a trace listener was given (fixed at construction). */
  readonly tracing: boolean;
  /** ProtocolHost.settled: what `deliver` returns when onMessage settled synchronously (see `settle`). */
  readonly settled: Promise<void> = RESOLVED;
  private readonly runtimeFrame: ((frame: InboundFrame) => void) | undefined;
  private readonly ctx: AppContext;
  private readonly strict: boolean;
  /** The run trace, silent once this incarnation crashed. */
  private readonly rt: TraceEmit | undefined;
  /** Application sends this incarnation, numbering the run trace's message ids. */
  private sendSeq = 0;
  /** ctx.write calls this incarnation (the run trace's output-write numbers). */
  private writes = 0;
  /** protocol.start() resolved: a state reset from now on is a rollback of a live process. */
  private isLive = false;

  private proto: Protocol | null = null;
  private state: unknown = undefined;
  private hasState = false;
  /** An init/onStart or onMessage is running; the next must wait. */
  private busy = false;
  private doneReported = false;
  private deliveries = 0;
  /** Application sends this incarnation (the launcher's stall detector counts them as progress). */
  private sends = 0;
  private failed: JobFailure | null = null;
  /** Simulated crash: the in-process stand-in for SIGKILL. */
  private dead = false;
  /** Highest incarnation seen per peer, so the transport and the launcher can both report a restart. */
  private readonly peerIncarnations: number[];
  /** The last messages delivered from each peer, to judge regenerated duplicates (divergence.ts). */
  private readonly ring: DeliveredRing;

  constructor(o: RankHostOptions) {
    this.rank = o.rank;
    this.size = o.size;
    this.incarnation = o.incarnation;
    this.f = o.f ?? o.protocol.defaultF;
    this.transport = o.transport;
    const rt = o.runTrace;
    this.rt = rt === undefined ? undefined : (b) => {
      if (!this.dead) rt(b);
    };
    this.storage = this.rt === undefined ? o.storage : traceStorage(o.storage, this.rt);
    this.timers = o.timers;
    this.app = o.app;
    this.args = o.args ?? [];
    this.factory = o.protocol;
    this.sink = o.sink;
    this.events = o.events;
    this.traceFn = o.trace;
    this.tracing = o.trace !== undefined;
    const consumer = o.storage as Partial<RuntimeFrameConsumer>;
    this.runtimeFrame =
      o.runtimeFrame ?? (typeof consumer.onRuntimeFrame === "function" ? (fr) => consumer.onRuntimeFrame!(fr) : undefined);
    this.peerIncarnations = new Array<number>(o.size).fill(0);
    this.ring = new DeliveredRing(o.size);
    this.strict = o.strict === true;
    this.ctx = this.makeContext();
  }

  // ------------------------------------------------------------ lifecycle

  /** Create the protocol, attach the transport, and run protocol.start(). */
  async start(): Promise<void> {
    const p = this.factory.create(this);
    this.proto = p;
    this.transport.on({
      frame: (fr) => this.onFrame(fr),
      peerIncarnation: (r, inc) => this.peerRestarted(r, inc),
      peerDown: (r) => this.events.peerDown?.(r),
    });
    if (this.incarnation > 0) this.rt?.({ ev: "recovery", phase: "begin" });
    try {
      await p.start();
    } catch (e) {
      throw this.failFrom(e, "internal");
    }
    this.isLive = true;
    if (this.incarnation > 0) this.rt?.({ ev: "recovery", phase: "end" });
    this.rt?.({ ev: "live" });
  }

  /** Stop the protocol (timers, flushes) and return its stats. Does not close the transport. */
  async stop(): Promise<ProtocolStats | null> {
    const p = this.proto;
    if (!p) return null;
    try {
      await p.stop();
    } catch (e) {
      throw this.failFrom(e, "internal");
    }
    return p.stats();
  }

  /**
   * Every rank is done: let the protocol complete the output commits it still
   * defers (Protocol.finish). Resolves once this rank's outputs are released;
   * at once for a protocol without finish. A crashed host never resolves.
   */
  async finish(): Promise<void> {
    if (this.dead) return NEVER;
    const p = this.proto;
    if (!p || p.finish === undefined) return;
    if (this.failed) throw new ReportedError(this.failed);
    try {
      await p.finish();
    } catch (e) {
      throw this.failFrom(e, "internal");
    }
  }

  get protocol(): Protocol | null {
    return this.proto;
  }

  /** Deliveries this incarnation (replayed ones included). */
  get deliveryCount(): number {
    return this.deliveries;
  }

  /** ctx.send calls of the application this incarnation. */
  get sendCount(): number {
    return this.sends;
  }

  get isDone(): boolean {
    return this.doneReported;
  }

  get failure(): JobFailure | null {
    return this.failed;
  }

  /**
   * Simulated crash (the simulation's SIGKILL): from now on the host drops
   * everything, so leftover async code of the dead incarnation (an
   * onMessage awaiting ctx.read, a protocol flush) has no effect on the job.
   */
  crash(): void {
    this.dead = true;
  }

  get crashed(): boolean {
    return this.dead;
  }

  /** Failure detection from outside the transport (the launcher's watchdog). Deduplicated. */
  peerRestarted(rank: number, incarnation: number): void {
    if (this.failed || rank === this.rank || !(incarnation > (this.peerIncarnations[rank] ?? 0))) return;
    this.peerIncarnations[rank] = incarnation;
    this.rt?.({ ev: "peer-restart", peer: rank, peerInc: incarnation });
    this.guard(() => this.proto?.onPeerRestart(rank, incarnation));
    this.events.peerRestarted?.(rank, incarnation);
  }

  // ------------------------------------------------------------ ProtocolHost

  trace(event: TraceEvent): void {
    if (this.dead) return;
    this.traceFn?.(event);
    if (this.rt) this.runTraceNote(event, this.rt);
    if (event.type !== "deliver" && event.type !== "send" && event.type !== "output") this.events.note?.(event);
  }

  /** A protocol's trace event in the run trace (send, deliver and output the host records itself). */
  private runTraceNote(e: TraceEvent, rt: TraceEmit): void {
    switch (e.type) {
      case "checkpoint":
        return rt({ ev: "checkpoint-begin", index: e.index });
      case "recover":
        return rt({ ev: "recovery", phase: "replayed", replayed: e.replayed });
      case "rollback":
        return rt({ ev: "rollback", reason: e.reason, by: "protocol" });
      case "protocol":
        return rt(this.isLive ? { ev: "note", text: e.what } : { ev: "recovery", phase: "step", text: e.what });
      default:
        return;
    }
  }

  initApp(opts: { readonly replay: boolean }): Promise<void> {
    if (this.dead) return NEVER;
    if (this.failed) return Promise.reject(new ReportedError(this.failed));
    this.claim("initApp");
    this.events.appReset?.("initApp");
    if (this.isLive) this.rt?.({ ev: "rollback", reason: "app state reset while live (initApp)", by: "host" });
    let r: void | Promise<void>;
    try {
      if (this.strict) {
        r = inStrictHandler(this.rank, () => {
          this.state = this.app.init({ rank: this.rank, size: this.size, args: this.args });
          this.hasState = true;
          return this.app.onStart?.(this.state, this.ctx);
        });
      } else {
        this.state = this.app.init({ rank: this.rank, size: this.size, args: this.args });
        this.hasState = true;
        r = this.app.onStart?.(this.state, this.ctx);
      }
    } catch (e) {
      return this.appFailed(e);
    }
    void opts;
    return this.settle(r, false);
  }

  deliver(from: number, payload: Uint8Array, opts: { readonly replay: boolean }, ssn?: number): Promise<void> {
    if (this.dead) return NEVER;
    if (this.failed) return Promise.reject(new ReportedError(this.failed));
    this.claim("deliver");
    if (!this.hasState) {
      this.busy = false;
      throw this.contract("deliver() before initApp() or restoreAppState()");
    }
    this.deliveries++;
    if (this.rt) {
      const u = untagPayload(from, payload);
      payload = u.bytes;
      this.rt({ ev: "deliver", id: u.id, from, replay: opts.replay });
    }
    if (ssn !== undefined) this.ring.note(from, ssn, payload);
    let data: unknown;
    try {
      data = decodeValue(payload);
    } catch (e) {
      this.busy = false;
      throw this.failFrom(e, "internal");
    }
    if (this.traceFn) {
      // Over the value, not the v8 bytes (which differ for equal messages, see canonical.ts),
      // and before onMessage can mutate it.
      this.traceFn({ type: "deliver", rank: this.rank, from, replay: opts.replay, digest: canonicalDigest(data) });
    }
    let r: void | Promise<void>;
    try {
      r = this.strict ? inStrictHandler(this.rank, () => this.app.onMessage(this.state, { from, data }, this.ctx)) : this.app.onMessage(this.state, { from, data }, this.ctx);
    } catch (e) {
      return this.appFailed(e);
    }
    return this.settle(r, true);
  }

  duplicate(from: number, ssn: number, payload: Uint8Array): void {
    if (this.dead || this.failed) return;
    // A traced run's payloads carry their message id, which names the sender's incarnation: compare without it.
    const d = this.ring.compare(from, ssn, this.rt ? untagPayload(from, payload).bytes : payload);
    if (d !== undefined) this.report({ kind: "nondeterminism", rank: from, to: this.rank, ssn, ...d });
  }

  captureAppState(): Uint8Array {
    if (this.busy) throw this.contract("captureAppState() during a delivery (only between deliveries)");
    if (!this.hasState) throw this.contract("captureAppState() before the app was initialized");
    // Warm memory (protocol-lib/warm.ts): a checkpoint store gives it back once the checkpoint is written.
    return encodeAppState(this.state, takeWarm);
  }

  restoreAppState(bytes: Uint8Array): void {
    if (this.busy) throw this.contract("restoreAppState() during a delivery");
    if (!this.dead) this.events.appReset?.("restoreAppState");
    if (this.isLive) this.rt?.({ ev: "rollback", reason: "app state reset while live (restoreAppState)", by: "host" });
    this.state = decodeValue(bytes);
    this.hasState = true;
  }

  emitOutput(seq: number, payload: Uint8Array): Promise<void> {
    if (this.dead) return NEVER;
    if (this.failed) return Promise.reject(new ReportedError(this.failed));
    this.traceFn?.({ type: "output", rank: this.rank, seq });
    this.rt?.({ ev: "output-release", seq });
    return this.sink.emit(this.rank, seq, payload).catch((e: unknown) => {
      if (e instanceof RetractionError) {
        throw this.report({ kind: "retraction", rank: this.rank, seq, message: e.message });
      }
      throw this.failFrom(e, "internal");
    });
  }

  unrecoverable(reason: string): never {
    const err = new UnrecoverableError(reason, this.rank);
    if (!this.dead) this.report(err.failure);
    throw err;
  }

  // ------------------------------------------------------------ internals

  private makeContext(): AppContext {
    const host = this;
    // The value at once for a synchronous produce (or a replayed value), a promise for an async one.
    function readValue<T>(produce: () => T | Promise<T>): T | Promise<T> {
      if (typeof produce !== "function") throw new TypeError("ctx.read(produce): produce must be a function");
      host.rt?.({ ev: "read" });
      const call = () =>
        host.proto!.read(() => {
          const v = produce();
          return isThenable(v) ? Promise.resolve(v).then((x) => encodeValue(x)) : encodeValue(v);
        });
      // Under --strict the producer (and the protocol) run outside the handler: inputs belong there.
      const r = host.strict ? outsideStrictHandler(call) : call();
      return r instanceof Uint8Array ? (decodeValue(r) as T) : r.then((b) => decodeValue(b) as T);
    }
    return Object.freeze({
      rank: this.rank,
      size: this.size,
      send(to: number, data: unknown): void {
        if (!Number.isInteger(to) || to < 0 || to >= host.size) {
          throw new RangeError(`ctx.send: destination ${String(to)} is not a rank in 0..${host.size - 1}`);
        }
        if (to === host.rank) throw new RangeError(`ctx.send: rank ${host.rank} cannot send to itself`);
        if (host.failed || host.dead) return;
        let bytes: Uint8Array;
        try {
          bytes = encodeValue(data);
        } catch (e) {
          throw cloneError(`ctx.send(${to}, …)`, data, e, this.send);
        }
        host.sends++;
        if (host.rt) {
          const seq = ++host.sendSeq;
          host.rt({ ev: "send", id: messageId(host.rank, host.incarnation, seq), to, bytes: bytes.byteLength });
          bytes = tagPayload(bytes, host.incarnation, seq);
        }
        if (host.strict) outsideStrictHandler(() => host.proto!.send(to, bytes));
        else host.proto!.send(to, bytes);
      },
      read: readValue,
      write(data: unknown): Promise<void> {
        let bytes: Uint8Array;
        try {
          bytes = encodeValue(data);
        } catch (e) {
          throw cloneError("ctx.write(…)", data, e, this.write);
        }
        host.rt?.({ ev: "output-write", n: ++host.writes, bytes: bytes.byteLength });
        return host.strict ? outsideStrictHandler(() => host.proto!.write(bytes)) : host.proto!.write(bytes);
      },
      done(): void {
        if (host.doneReported || host.failed || host.dead) return;
        host.doneReported = true;
        host.rt?.({ ev: "done" });
        if (host.strict) outsideStrictHandler(() => host.events.done?.(host.rank));
        else host.events.done?.(host.rank);
      },
    });
  }

  private claim(what: string): void {
    if (this.busy) {
      throw this.contract(`${what}() called before the previous delivery settled (deliveries must be one at a time)`);
    }
    this.busy = true;
  }

  /** Finish a delivery: sync handlers settle without an extra await (the `none` benchmark path). */
  private settle(r: void | Promise<void>, isDelivery: boolean): Promise<void> {
    if (r !== undefined && r !== null && typeof (r as Promise<void>).then === "function") {
      return (r as Promise<void>).then(
        () => this.finished(isDelivery),
        (e: unknown) => this.appFailed(e),
      );
    }
    this.finished(isDelivery);
    return RESOLVED;
  }

  private finished(isDelivery: boolean): void {
    this.busy = false;
    if (this.dead) return;
    if (isDelivery) this.events.delivered?.(this.deliveries);
  }

  private appFailed(e: unknown): Promise<never> {
    this.busy = false;
    if (this.dead) return NEVER;
    // A rejection caused by an already-reported failure (a retraction seen by an awaited ctx.write) is not the app's fault.
    if (e instanceof ReportedError || this.failed) return Promise.reject(e);
    const { message, stack } = errorText(e);
    return Promise.reject(this.report({ kind: "app-error", rank: this.rank, message, stack }));
  }

  private contract(message: string): ProtocolContractError {
    const err = new ProtocolContractError(`protocol ${this.factory.protocolName}: ${message}`);
    this.report({ kind: "internal", rank: this.rank, message: err.message, stack: err.stack ?? err.message });
    return err;
  }

  /** Classify an unexpected error, report it once, and return the error to throw. */
  private failFrom(e: unknown, kind: "internal"): Error {
    if (e instanceof ReportedError) return e;
    if (e instanceof ProtocolContractError && this.failed) return e;
    // Disk full, read-only, no permission: the user's environment, not damaged storage or a bug.
    const env = environmentFault(e);
    if (env !== undefined) return this.report({ kind: "environment", rank: this.rank, ...env });
    // Storage lost records beyond what the failure budget covers (the replicated log's
    // beyond-f check): the job cannot be recovered, and that is not a protocol bug.
    const lost = storageFailure(e);
    if (lost !== undefined) return this.report({ kind: "unrecoverable", rank: this.rank, reason: lost });
    const { message, stack } = errorText(e);
    return this.report({ kind, rank: this.rank, message, stack });
  }

  private report(failure: JobFailure): ReportedError {
    if (this.dead) return new ReportedError(failure);
    if (!this.failed) {
      if (failure.kind === "unrecoverable") this.rt?.({ ev: "unrecoverable", reason: failure.reason });
      else this.rt?.({ ev: "failure", kind: failure.kind, message: describeFailure(failure) });
      this.failed = failure;
      this.busy = false;
      this.events.fatal(failure);
    }
    return new ReportedError(this.failed);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      // Protocol code run from a transport callback has no caller to throw to.
      this.failFrom(e, "internal");
    }
  }

  private onFrame(fr: InboundFrame): void {
    if (this.failed || this.dead) return;
    if (fr.kind === FrameKind.Control && fr.tag >= RUNTIME_TAG_BASE) {
      if (this.runtimeFrame) this.guard(() => this.runtimeFrame!(fr));
      return;
    }
    const p = this.proto;
    if (p) this.guard(() => p.onFrame(fr));
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}

