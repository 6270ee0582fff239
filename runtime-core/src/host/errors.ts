/**
 * How a job fails. Each kind has its own exit code so scripts (and a
 * supervisor in single-rank mode) can tell a buggy application, a protocol
 * bug and an exceeded failure budget apart.
 */
import { describeEnvFault, type EnvFault } from "./env-fault.js";

export type JobFailure =
  /** The application's init/onStart/onMessage threw: a bug to fix, not a crash to recover from. */
  | { readonly kind: "app-error"; readonly rank: number; readonly message: string; readonly stack: string }
  /** The protocol cannot recover (e.g. more than f concurrent failures). */
  | { readonly kind: "unrecoverable"; readonly rank: number; readonly reason: string }
  /** The same output seq was released twice with different data: a protocol bug. */
  | { readonly kind: "retraction"; readonly rank: number; readonly seq: number; readonly message: string }
  /**
   * A recovering rank (`rank`) re-sent a message its receiver `to` had already
   * delivered, with other contents: the application is not piecewise
   * deterministic (host/divergence.ts).
   */
  | {
      readonly kind: "nondeterminism";
      readonly rank: number;
      readonly to: number;
      readonly ssn: number;
      readonly path: string;
      readonly before: string;
      readonly after: string;
      readonly cause: string;
    }
  /** A contract violation inside the runtime or the protocol (e.g. overlapping deliveries). */
  | { readonly kind: "internal"; readonly rank: number; readonly message: string; readonly stack: string }
  /** The job did not finish in time (--timeout), or made no progress for the stall window (launcher/stall-detector.ts). */
  | { readonly kind: "timeout"; readonly rank: number; readonly message: string }
  /** The environment refused (disk full, read-only, no permission, missing file): the user's to fix. rank -1 = the launcher. */
  | ({ readonly kind: "environment"; readonly rank: number } & EnvFault)
  /** The launcher got SIGINT or SIGTERM and stopped the job. */
  | { readonly kind: "interrupted"; readonly rank: -1; readonly signal: InterruptSignal };

/** The signals that stop a job cleanly (exit 128 + signal number, as a shell reports it). */
export type InterruptSignal = "SIGINT" | "SIGTERM";

export const EXIT_CODES = {
  ok: 0,
  "app-error": 1,
  usage: 2,
  unrecoverable: 3,
  retraction: 4,
  timeout: 5,
  internal: 6,
  environment: 7,
  nondeterminism: 8,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

export function exitCodeOf(f: JobFailure): number {
  return f.kind === "interrupted" ? EXIT_CODES[f.signal] : EXIT_CODES[f.kind];
}

/** One human line (plus the stack for application errors) describing a failure. */
export function describeFailure(f: JobFailure): string {
  switch (f.kind) {
    case "app-error":
      return `application error on rank ${f.rank}: ${f.stack || f.message}`;
    case "unrecoverable":
      return `unrecoverable: ${f.reason}`;
    case "retraction":
      return `output retraction on rank ${f.rank}, seq ${f.seq}: ${f.message}`;
    case "nondeterminism":
      return (
        `non-determinism on rank ${f.rank}: recovering from a crash, it re-sent message ${f.ssn} to rank ${f.to} ` +
        `with other contents than before the crash (${f.path} was ${f.before}, now ${f.after}). ` +
        `Likely cause: ${f.cause}. Hint: wrap the input in ctx.read(() => ...) so recovery replays its value ` +
        `(egida-run --strict makes Math.random and Date.now throw in handlers)`
      );
    case "internal":
      return `internal error on rank ${f.rank}: ${f.stack || f.message}`;
    case "timeout":
      return `timeout: ${f.message}`;
    case "environment":
      return describeEnvFault(f, f.rank);
    case "interrupted":
      return `interrupted (${f.signal})`;
  }
}

/**
 * An error whose JobFailure has already been reported to the job. It only
 * unwinds the stack (protocol promise chains, the app's awaits); whoever
 * catches it must not report it again.
 */
export class ReportedError extends Error {
  override readonly name: string = "ReportedError";
  constructor(readonly failure: JobFailure) {
    super(describeFailure(failure));
  }
}

/** Thrown by host.unrecoverable() to unwind the protocol; the failure is already reported. */
export class UnrecoverableError extends ReportedError {
  override readonly name = "UnrecoverableError";
  constructor(readonly reason: string, rank: number) {
    super({ kind: "unrecoverable", rank, reason });
  }
}

/** The protocol broke the ProtocolHost contract (a bug in the protocol, not the app). */
export class ProtocolContractError extends Error {
  override readonly name = "ProtocolContractError";
}

/** The output sink saw the same (rank, seq) with different data. */
export class RetractionError extends Error {
  override readonly name = "RetractionError";
  constructor(
    readonly rank: number,
    readonly seq: number,
  ) {
    // Under a protocol that logs every non-deterministic event, a replay writes the same outputs: a
    // different one is almost always an application that is not piecewise deterministic.
    super(
      `output (rank ${rank}, seq ${seq}) was released before with different data: the re-execution after a crash wrote another output ` +
        `than the run before it. Likely cause: the application is not piecewise deterministic (Math.random(), Date.now(), timers, ` +
        `or I/O in a handler outside ctx.read/ctx.write); otherwise a protocol bug (output commit violated)`,
    );
  }
}

/** The application module cannot be used (missing, wrong shape). */
export class AppLoadError extends Error {
  override readonly name = "AppLoadError";
}

export function errorText(e: unknown): { message: string; stack: string } {
  if (e instanceof Error) return { message: e.message, stack: e.stack ?? `${e.name}: ${e.message}` };
  const s = typeof e === "string" ? e : safeString(e);
  return { message: s, stack: `thrown value: ${s}` };
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
