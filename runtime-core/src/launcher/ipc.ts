/**
 * Launcher <-> rank-process messages, over the fork IPC channel with
 * `serialization: "advanced"` (structured clone), so payloads travel as
 * Uint8Array without base64.
 */
import type { JobFailure } from "../host/errors.js";
import type { ProtocolStats } from "../spi.js";
import type { RankActivity } from "./stall-detector.js";

/**
 * The note text (the launcher prints "rank R: <it> (how)") for a live process
 * whose app state its protocol reset: a rollback of a process that had not
 * failed, seen by the host whatever the protocol traces.
 */
export const LIVE_RESET = "app state reset while live";

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** Everything a rank process needs; sent in the first IPC message so the secret never shows in argv or env. */
export interface RankConfig {
  readonly rank: number;
  readonly size: number;
  readonly incarnation: number;
  readonly f?: number;
  readonly app: string;
  readonly appArgs: readonly string[];
  readonly protocol: string;
  /** Working directory the protocol spec is resolved from. */
  readonly cwd: string;
  readonly storageDir: string;
  /** Root of the nfs-disk medium (`--shared-dir`); default `<storageDir>/shared`. */
  readonly sharedDir?: string;
  /** An earlier incarnation of this rank went live, so it opened storage that must still be there (DiskStorageOptions.expectStorage). */
  readonly expectStorage?: boolean;
  readonly peers: readonly PeerAddress[];
  /** Per-job HMAC secret, hex. */
  readonly secretHex: string;
  /** SIGKILL yourself after this many deliveries of this incarnation (a `--kill RANK@Kmsgs`), or null. */
  readonly killAfter: number | null;
  /** This rank's part of the run trace (trace/writer.ts), appended by each incarnation. */
  readonly traceFile?: string;
  readonly strict?: boolean;
}

export type ToRank =
  | { readonly t: "start"; readonly config: RankConfig }
  | { readonly t: "peer-restart"; readonly rank: number; readonly incarnation: number }
  /** A rank now listens at `address` (restarted, on its port or on another one when its port was taken): dial it there now. */
  | { readonly t: "peer-address"; readonly rank: number; readonly address: PeerAddress }
  /** Every rank is done: run Protocol.finish (sent again to a rank restarted meanwhile, once it is live). */
  | { readonly t: "finish" }
  | { readonly t: "shutdown" };

export type FromRank =
  /** The rank process is listening for IPC (messages sent earlier could be lost during module loading). */
  | { readonly t: "hello" }
  /** The rank's transport is bound, on `port` (not necessarily the one in its peer table). */
  | { readonly t: "listening"; readonly rank: number; readonly port: number }
  | { readonly t: "live"; readonly rank: number; readonly incarnation: number }
  | { readonly t: "output"; readonly rank: number; readonly seq: number; readonly payload: Uint8Array }
  | { readonly t: "done"; readonly rank: number }
  /** This incarnation's Protocol.finish resolved: its outputs are released (they went before this message). */
  | { readonly t: "finished"; readonly rank: number; readonly incarnation: number }
  /**
   * Sent when the counts or the phase change, and at least every HEARTBEAT_MS
   * (stall detection): what the rank is doing, and the CPU it used since its
   * previous report.
   */
  | ({ readonly t: "progress"; readonly rank: number; readonly cpuMs: number; readonly wallMs: number } & RankActivity)
  | { readonly t: "killing"; readonly rank: number; readonly deliveries: number }
  | { readonly t: "note"; readonly rank: number; readonly text: string; readonly stateLost: boolean; /** A protocol internal, shown only with --verbose. */ readonly detail?: boolean }
  | { readonly t: "fatal"; readonly failure: JobFailure }
  | { readonly t: "stats"; readonly rank: number; readonly deliveries: number; readonly stats: ProtocolStats | null; readonly logSyncs?: number };
