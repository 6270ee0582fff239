/**
 * Facts more than one family derives the same way: the checkpoint statement,
 * a message-logging family's checkpoint store, and read determinants.
 */
import type { NonDetStatement, ProtocolIR } from "../../ir/types.js";
import type { Media } from "../media.js";
import { has, UnsupportedProtocolError } from "../select-common.js";
import type { CheckpointFacts, ReadLogFacts, StoreFacts } from "./types.js";

/** The spec's options every family's blocks read. */
export function baseFacts(ir: ProtocolIR): { f: number; flushIntervalMs: number; checkpointIntervalMs: number } {
  return { f: ir.options.f, flushIntervalMs: ir.options.flushIntervalMs, checkpointIntervalMs: ir.options.checkpointIntervalMs };
}

export function checkpointFacts(ck: ProtocolIR["checkpoint"]): CheckpointFacts | null {
  if (ck === null) return null;
  return {
    proto: ck.proto.id,
    coordinated: ck.proto.id === "coordinated",
    medium: ck.storage.id,
    how: ck.how.id,
    sync: ck.how.id === "synchronously",
    incremental: ck.impl.id === "incremental",
    loc: ck.loc,
    protoLoc: ck.proto.loc ?? ck.loc,
  };
}

/** Co-ordinated or communication-induced checkpoints under message logging (pessimistic or causal): checkpoint/schedule.ts. */
export function isScheduled(ck: CheckpointFacts | null): boolean {
  return ck !== null && (ck.proto === "coordinated" || ck.proto === "communication-induced");
}

/** Without a checkpoint statement the store is volatile: recovery replays from the initial state. */
export function storeFacts(ck: CheckpointFacts | null): StoreFacts {
  return {
    restoreId: ck?.proto ?? "core",
    storeId: ck?.how ?? "synchronously",
    medium: ck?.medium ?? "volatile-memory-of-self",
    sync: ck === null ? true : ck.sync,
    incremental: ck === null ? false : ck.incremental,
    loc: ck?.loc,
  };
}

/**
 * Read determinants (`<self, rsn, idx>` + the value read). A `read:`
 * statement says where they go. Without one, a protocol that logs its
 * receive determinants pessimistically logs read determinants the same way,
 * on the same medium (`implied`): the process is piecewise deterministic
 * only given the values its reads returned, so recovery needs them exactly
 * as it needs the delivery order, and the receive statement is the spec's
 * choice of how determinants are made stable. What the library cannot log
 * that way (causal piggybacking, asynchronous logs) is refused, never
 * silently weakened.
 *
 * `lostTail`: recovery may end before the last steps whose reads were logged (causal logging; pessimistic
 * logging by the watermark, whose read and event logs are synced apart): see log/read-log.ts onLive.
 * `causal`: causal logging's reads (an asynchronous log is accepted on local or NFS disk: causal/det-log
 * piggybacks the values until flushed; a synchronous one, with no log/watermark, waits for the sync).
 */
export function readLogFacts(st: NonDetStatement | undefined, implied: { medium: string; loc: ReadLogFacts["loc"] } | undefined, media: Media, causal = false): ReadLogFacts | undefined {
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
    return { medium: log.where.id, how: log.how.id, async, wait: causal && !async, lostTail, stated: true, loc: log.loc ?? st.loc };
  }
  if (implied === undefined) return undefined;
  return { medium: implied.medium, how: "synchronously", async: false, wait: false, lostTail, stated: false, loc: implied.loc };
}
