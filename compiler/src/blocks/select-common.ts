/**
 * What the selectors share: the `BlockInstance` they return, the refusal
 * (`UnsupportedProtocolError`), and the selection rules more than one family
 * applies (scheduled checkpoints under message logging, read determinants).
 * Its own file so that select.ts and the family selectors it calls
 * (causal/select-causal.ts, optimistic/select-optimistic.ts,
 * ckpt-only/select-ckpt-only.ts) import it instead of each other.
 */
import type { LogAction, NonDetStatement, ProtocolIR, SourceSpan } from "../ir/types.js";
import type { ParamValue } from "./params.js";
import type { Media } from "./media.js";

export interface BlockInstance {
  /** Block file relative to compiler/src/blocks, with `.ts`. */
  readonly file: string;
  /** Registry id (or "core") of the value that caused it. */
  readonly id: string;
  /** The paper module it implements (the modular back end's class). */
  readonly module: string;
  readonly params: Readonly<Record<string, ParamValue>>;
  /** Spec span that caused the block. */
  readonly loc?: SourceSpan;
  /** Why it was selected, for `egida explain`. */
  readonly reason: string;
}

/** The code of a refusal the block library may lift one day: a row of the table in docs/protocols.md. */
export const NOT_SUPPORTED_YET = "E-not-supported-yet";

/**
 * A construct block selection refuses, where the spec asks for it, and what
 * to write instead. The checker runs selection (passes/check-generate.ts) and
 * reports every refusal as a located error diagnostic with `code` and `hint`,
 * so a spec that passes `egida-gen check` always generates: this is the one
 * place the refusal rules live.
 *
 * `code` is NOT_SUPPORTED_YET for what no block implements yet (the table of
 * docs/protocols.md lists each), or the code of an error for a combination
 * that has no meaning (e.g. output commit in a checkpoint-only protocol); the
 * construct is then the whole message.
 */
export class UnsupportedProtocolError extends Error {
  override readonly name = "UnsupportedProtocolError";
  constructor(
    readonly construct: string,
    readonly loc: SourceSpan | undefined,
    /** What to write instead. Every refusal a checker-valid spec can reach must have one (codegen-property.test.ts). */
    readonly hint?: string,
    readonly code: string = NOT_SUPPORTED_YET,
  ) {
    super(`${refusalMessage(construct, code)}${loc ? ` (spec ${loc.line}:${loc.column})` : ""}`);
  }
}

/** The diagnostic's message for a refusal. */
export function refusalMessage(construct: string, code: string): string {
  return code === NOT_SUPPORTED_YET ? `not supported yet: ${construct}` : construct;
}

/** Whether a Log action logs `info` (determinant, message). */
export function has(log: LogAction, info: string): boolean {
  return log.info.some((i) => i.id === info);
}

export function inst(file: string, id: string, module: string, reason: string, params: Record<string, ParamValue> = {}, loc?: SourceSpan): BlockInstance {
  return loc === undefined ? { file, id, module, params, reason } : { file, id, module, params, loc, reason };
}

/** Co-ordinated or communication-induced checkpoints under message logging (pessimistic or causal): checkpoint/schedule.ts. */
export function scheduleBlock(ck: NonNullable<ProtocolIR["checkpoint"]>): BlockInstance {
  const coordinated = ck.proto.id === "coordinated";
  return inst(
    "checkpoint/schedule.ts",
    ck.proto.id,
    "PiggybackCheckpointing",
    coordinated
      ? "piggyback the round number; a message of a later round forces that round's checkpoint before delivery (marker rule); rank 0 announces each round once its checkpoint is durable"
      : "piggyback the checkpoint index; a higher index forces a checkpoint with that index before delivery (BCS)",
    { "pk.coordinated": coordinated },
    ck.proto.loc ?? ck.loc,
  );
}

/**
 * Read determinants (`<self, rsn, idx>` + the value read). A `read:`
 * statement says where they go. Without one, a protocol that logs its
 * receive determinants pessimistically logs read determinants the same way,
 * on the same medium: the process is piecewise deterministic only given the
 * values its reads returned, so recovery needs them exactly as it needs the
 * delivery order, and the receive statement is the spec's choice of how
 * determinants are made stable. What the library cannot log that way
 * (causal piggybacking, asynchronous logs) is refused, never silently weakened.
 * Returns undefined only when there is no event log (the caller refuses those).
 * `lostTail`: recovery may end before the last steps whose reads were logged (causal logging; pessimistic
 * logging by the watermark, whose read and event logs are synced apart): see log/read-log.ts onLive.
 * `wait`: a synchronous read log with no log/watermark (causal) waits for the sync before the read returns.
 */
/**
 * `causal`: causal logging's reads (the lost tail is forgotten at onLive, and an asynchronous log is
 * accepted on local or NFS disk: causal/det-log piggybacks the values until flushed).
 */
export function selectReadLog(st: NonDetStatement | undefined, eventLog: BlockInstance | undefined, media: Media, causal = false): BlockInstance | undefined {
  const lostTail = true;
  if (st !== undefined) {
    const log = st.log;
    if (log === null) throw new UnsupportedProtocolError("read determinants that are only piggybacked (causal logging of reads)", st.loc, "add `Log determinant synchronously on NFS disk` under the `read:` statement");
    if (!has(log, "determinant")) throw new UnsupportedProtocolError("read: Log without the determinant (the value read is in it)", log.loc ?? st.loc, "write `Log determinant ...`");
    const async = log.how.id !== "synchronously";
    if (async && !causal) throw new UnsupportedProtocolError("asynchronous read-determinant logging", log.how.loc ?? st.loc, "log read determinants `synchronously`");
    if (async && !media.asyncLog.has(log.where.id)) {
      throw new UnsupportedProtocolError(`asynchronous read determinant logs on ${log.where.id}`, log.where.loc ?? st.loc, `log on ${media.list(media.asyncLog)}, or \`synchronously\``);
    }
    if (!media.syncLog.has(log.where.id)) throw new UnsupportedProtocolError(`read determinant logs on ${log.where.id}`, log.where.loc ?? st.loc, `log on ${media.list(media.syncLog)}`);
    return inst(
      "log/read-log.ts",
      "determinant",
      "LogEventDeterminant",
      async
        ? `read determinants (<self, rsn, idx> + value) logged asynchronously on ${log.where.id} (synced on the flush timer); piggybacked until flushed; recovery reads them back`
        : causal
          ? `read determinants (<self, rsn, idx> + value) logged ${log.how.id} on ${log.where.id} before the read returns; replay returns the logged value`
          : `read determinants (<self, rsn, idx> + value) logged ${log.how.id} on ${log.where.id}: appended when the read returns, durable before a later send or output leaves (log/watermark); replay returns the logged value`,
      { "read.medium": log.where.id, "read.lostTail": lostTail, "read.async": async, "read.wait": causal && !async },
      log.loc ?? st.loc,
    );
  }
  if (eventLog === undefined) return undefined;
  const medium = eventLog.params["log.medium"]!;
  return inst(
    "log/read-log.ts",
    "determinant",
    "LogEventDeterminant",
    `read determinants (<self, rsn, idx> + value) logged synchronously on ${String(medium)} like the receive determinants, durable before a later send or output leaves (the spec has no read statement; reads are non-deterministic events recovery must replay)`,
    { "read.medium": medium, "read.lostTail": lostTail, "read.async": false, "read.wait": false },
    eventLog.loc,
  );
}
