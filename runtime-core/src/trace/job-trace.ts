/** The launcher's side of a run trace: the header and the job's own records (rank -1). */
import { EnvironmentError, environmentFault } from "../host/env-fault.js";
import { describeFailure, type JobFailure } from "../host/errors.js";
import { TRACE_SCHEMA, TRACE_VERSION, wallMs, type TraceBody, type TraceHeader } from "./records.js";

export function traceHeader(o: {
  readonly mode: "tcp" | "sim";
  readonly size: number;
  readonly protocol: string;
  readonly app: string;
  readonly kills: readonly { readonly text: string }[];
  readonly seed?: number;
}): TraceHeader {
  return {
    schema: TRACE_SCHEMA,
    version: TRACE_VERSION,
    size: o.size,
    protocol: o.protocol,
    mode: o.mode,
    app: o.app,
    startedAt: wallMs(),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    kills: o.kills.map((k) => k.text),
  };
}

/**
 * The records that close a trace: the job's failure as the launcher saw it
 * (rank -1; a rank that failed through its host also recorded it, but a
 * start-up failure or a timeout has no other record), then `end`.
 */
export function endRecords(failure: JobFailure | null, exitCode: number, vt?: number): object[] {
  const stamp = { ts: wallMs(), ...(vt !== undefined ? { vt } : {}), rank: -1, inc: 0 };
  const out: object[] = [];
  if (failure !== null) {
    const body: TraceBody =
      failure.kind === "unrecoverable" ? { ev: "unrecoverable", reason: failure.reason } : { ev: "failure", kind: failure.kind, message: describeFailure(failure) };
    out.push({ ...stamp, ...body });
  }
  const end: TraceBody = { ev: "end", ok: failure === null, exitCode };
  out.push({ ...stamp, ...end });
  return out;
}

/** A file operation on the trace; a file system that refuses it is the user's environment, named as --trace. */
export function traceFsOp<T>(op: () => T): T {
  try {
    return op();
  } catch (e) {
    const env = environmentFault(e, "trace");
    if (env !== undefined) throw new EnvironmentError(env, e);
    throw e;
  }
}
