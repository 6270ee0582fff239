/**
 * The run trace (`egida-run --trace FILE`): one JSONL file per run. The first
 * line is a TraceHeader, every other line a TraceRecord. The JSON Schema in
 * runtime-core/trace-schema.json describes the same shapes (docs/trace.md).
 */

export const TRACE_SCHEMA = "egida-trace";
export const TRACE_VERSION = 1;

export interface TraceHeader {
  readonly schema: typeof TRACE_SCHEMA;
  readonly version: typeof TRACE_VERSION;
  readonly size: number;
  readonly protocol: string;
  readonly mode: "tcp" | "sim" | "single";
  readonly app: string;
  /** Wall clock (ms since the Unix epoch) when the run began. */
  readonly startedAt: number;
  /** The simulation's seed (mode "sim"). */
  readonly seed?: number;
  /** The --kill flags as written. */
  readonly kills?: readonly string[];
  /** Single-rank mode: the rank this file holds. */
  readonly rank?: number;
}

/** What happened; `rank`, `inc` and the clocks are added by the writer (TraceRecord). */
export type TraceBody =
  /** The application sent; `id` is `${from}:${incarnation}:${seq}` (seq counts this incarnation's sends from 1). */
  | { readonly ev: "send"; readonly id: string; readonly to: number; readonly bytes: number }
  /** A delivery to the application; `id` is the send's (null when the sender did not tag it). */
  | { readonly ev: "deliver"; readonly id: string | null; readonly from: number; readonly replay: boolean }
  /** ctx.read: a non-deterministic input (logged, or returned from the log during replay). */
  | { readonly ev: "read" }
  /** ctx.write: the application wrote output number `n` of this incarnation (not yet committed). */
  | { readonly ev: "output-write"; readonly n: number; readonly bytes: number }
  /** The protocol released committed output `seq` to the environment. */
  | { readonly ev: "output-release"; readonly seq: number }
  | { readonly ev: "checkpoint-begin"; readonly index: number }
  /** The checkpoint is durable (its store's write resolved). */
  | { readonly ev: "checkpoint-commit"; readonly index: number; readonly bytes: number }
  /** A log's records up to `lsn` (exclusive) are durable; `ms` is the flush's duration. */
  | { readonly ev: "log-flush"; readonly log: string; readonly lsn: number; readonly ms: number }
  /** The launcher killed this incarnation (SIGKILL, or a simulated crash). */
  | { readonly ev: "kill"; readonly why: string }
  /** The launcher started this incarnation (inc > 0: a restart after a death). */
  | { readonly ev: "restart" }
  /** A recovery phase: begin (a restarted incarnation starts), a protocol step, replayed (the log is replayed), end (live again). */
  | { readonly ev: "recovery"; readonly phase: "begin" | "step" | "replayed" | "end"; readonly text?: string; readonly replayed?: number }
  /** The incarnation's Protocol.start resolved: it serves messages. */
  | { readonly ev: "live" }
  /** State rolled back: by the protocol (with its reason), or seen by the host (a live process's state reset). */
  | { readonly ev: "rollback"; readonly reason: string; readonly by: "protocol" | "host" }
  /** A peer restarted as incarnation `peerInc` (the protocol was told). */
  | { readonly ev: "peer-restart"; readonly peer: number; readonly peerInc: number }
  /** Another protocol note (a checkpoint round, an orphan discarded, an output commit). */
  | { readonly ev: "note"; readonly text: string }
  /** The app called ctx.done(). */
  | { readonly ev: "done" }
  /** The failure exceeds what the protocol tolerates. */
  | { readonly ev: "unrecoverable"; readonly reason: string }
  /** The job failed otherwise (application error, internal error, timeout, environment). */
  | { readonly ev: "failure"; readonly kind: string; readonly message: string }
  /** The job ended (rank -1). */
  | { readonly ev: "end"; readonly ok: boolean; readonly exitCode: number };

export type TraceEventName = TraceBody["ev"];

export type TraceRecord = TraceBody & {
  /** Wall clock, ms since the Unix epoch (fractional). */
  readonly ts: number;
  /** Virtual ms (mode "sim" only). */
  readonly vt?: number;
  /** The rank, or -1 for the job itself. */
  readonly rank: number;
  /** The rank's incarnation (0 for the job's own events). */
  readonly inc: number;
};

/** Where a rank host sends its trace events; the writer stamps rank, incarnation and clocks. */
export type TraceEmit = (body: TraceBody) => void;

/** Wall clock in ms since the epoch with sub-ms resolution, comparable across processes of one host. */
export function wallMs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000;
}
