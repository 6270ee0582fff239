/**
 * A ProtocolHost in front of the real RankHost, so the harness sees what the
 * protocol does to the application without any protocol cooperation:
 * restores and re-inits (a rollback when the incarnation is already live),
 * the replay flag and payload digest of each delivery, trace events, and
 * `unrecoverable` calls. Everything is forwarded unchanged.
 */
import { digestOf } from "./canon.js";
import type {
  Protocol,
  ProtocolFactory,
  ProtocolHost,
  StorageProvider,
  Timers,
  TraceEvent,
  Transport,
} from "../../runtime-core/src/spi.js";

export interface HostObserver {
  /** The protocol re-ran init (replay or not). */
  initApp(replay: boolean): void;
  restoreAppState(): void;
  /** Called before the host hands the payload to the app. */
  deliver(from: number, digest: number, replay: boolean): void;
  trace(e: TraceEvent): void;
  unrecoverable(reason: string): void;
}

class ObservedHost implements ProtocolHost {
  constructor(
    private readonly h: ProtocolHost,
    private readonly o: HostObserver,
  ) {}
  get storage(): StorageProvider {
    return this.h.storage;
  }
  get rank(): number {
    return this.h.rank;
  }
  get size(): number {
    return this.h.size;
  }
  get incarnation(): number {
    return this.h.incarnation;
  }
  get f(): number {
    return this.h.f;
  }
  get transport(): Transport {
    return this.h.transport;
  }
  get timers(): Timers {
    return this.h.timers;
  }
  get settled(): Promise<void> | undefined {
    return this.h.settled;
  }
  trace(event: TraceEvent): void {
    this.o.trace(event);
    this.h.trace(event);
  }
  initApp(opts: { readonly replay: boolean }): Promise<void> {
    this.o.initApp(opts.replay);
    return this.h.initApp(opts);
  }
  deliver(from: number, payload: Uint8Array, opts: { readonly replay: boolean }): Promise<void> {
    this.o.deliver(from, digestOf(payload), opts.replay);
    return this.h.deliver(from, payload, opts);
  }
  captureAppState(): Uint8Array {
    return this.h.captureAppState();
  }
  restoreAppState(bytes: Uint8Array): void {
    this.o.restoreAppState();
    this.h.restoreAppState(bytes);
  }
  emitOutput(seq: number, payload: Uint8Array): Promise<void> {
    return this.h.emitOutput(seq, payload);
  }
  unrecoverable(reason: string): never {
    this.o.unrecoverable(reason);
    return this.h.unrecoverable(reason);
  }
}

/**
 * The factory the RankHost is given: creates the real protocol on an ObservedHost.
 */
export function observedFactory(inner: ProtocolFactory, o: HostObserver): ProtocolFactory {
  return {
    protocolName: inner.protocolName,
    defaultF: inner.defaultF,
    create(host: ProtocolHost): Protocol {
      return inner.create(new ObservedHost(host, o));
    },
  };
}
