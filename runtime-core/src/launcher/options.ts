/** What the launcher was asked to do, after flag parsing and validation. */

export interface KillSpec {
  readonly rank: number;
  /** Kill the first time the rank's delivery count (across incarnations, replays included) reaches this. */
  readonly atDeliveries?: number;
  /** Kill this many ms after launch (virtual ms with --sim). */
  readonly atMs?: number;
  /** The flag as written, for messages. */
  readonly text: string;
}

export interface CommonOptions {
  readonly protocol: string;
  readonly app: string;
  readonly appArgs: readonly string[];
  readonly storageDir?: string;
  /** Keep the launcher's own temp storage after a successful job (it is always kept after a failure). */
  readonly keepStorage?: boolean;
  /** Root of the nfs-disk medium, shared between hosts (default `<storage-dir>/shared`). */
  readonly sharedDir?: string;
  readonly output?: string;
  readonly f?: number;
  readonly quiet: boolean;
  /** Show protocol internals and the ranks' routine events (also EGIDA_DEBUG). */
  readonly verbose?: boolean;
  /** The run trace file (JSONL, trace/records.ts); undefined = no tracing. */
  readonly traceFile?: string;
  /** Math.random() and Date.now() throw inside the app's handlers (host/strict.ts). */
  readonly strict?: boolean;
}

export interface JobOptions extends CommonOptions {
  readonly mode: "tcp" | "sim";
  readonly size: number;
  readonly kills: readonly KillSpec[];
  readonly seed: number;
  /** Whole-job wall-clock limit (virtual ms with --sim); undefined = none. */
  readonly timeoutMs?: number;
  /**
   * Fail when the job makes no progress for this long (see stall-detector.ts
   * for what counts); 0 disables; default DEFAULT_STALL_MS, or
   * DEFAULT_STALL_AFTER_STATE_LOSS_MS once a rank lost its state.
   */
  readonly stallTimeoutMs?: number;
  readonly restartDelayMs: number;
  /** Once every rank is done, how long the ranks may take to release their pending outputs (Protocol.finish); default DEFAULT_FINISH_TIMEOUT_MS. */
  readonly finishTimeoutMs?: number;
  /** Host the ranks listen on (default 127.0.0.1). */
  readonly host: string;
}

export interface SingleRankOptions extends CommonOptions {
  readonly mode: "single";
  readonly rank: number;
  readonly peers: readonly { readonly host: string; readonly port: number }[];
  readonly secretFile?: string;
  /** Explicit incarnation; else derived from (and recorded in) the storage dir. */
  readonly incarnation?: number;
  /** Address to listen on (`--host`); default this rank's host in `peers`, or 0.0.0.0 when discovered. */
  readonly bindHost: string;
  /** Where rank and peers came from (`--discover`), for the start-up line; undefined with --rank/--peers. */
  readonly discovered?: string;
  /** Mutual TLS between the ranks (`--tls-cert/--tls-key/--tls-ca`), the HMAC handshake inside it. */
  readonly tls?: TlsFiles;
}

/** PEM files of one rank's TLS identity and the job's CA. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export type LaunchOptions = JobOptions | SingleRankOptions;

/** Default stall window (ms, virtual with --sim): no rank delivered, sent, output, changed phase or computed. */
export const DEFAULT_STALL_MS = 10000;
/** Default stall window once a rank lost its state. */
export const DEFAULT_STALL_AFTER_STATE_LOSS_MS = 3000;

/**
 * Default limit of the finish phase (ms, virtual with --sim): a few commit
 * rounds normally, longer if a rank crashes meanwhile and the job recovers.
 */
export const DEFAULT_FINISH_TIMEOUT_MS = 30000;
