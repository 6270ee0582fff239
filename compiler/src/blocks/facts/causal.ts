/**
 * Causal logging's facts (`send: Piggyback determinants[, <tracking>]`,
 * receive determinants not logged synchronously). Constructs the causal
 * blocks do not implement are refused (UnsupportedProtocolError). The blocks
 * are rows of blocks/family-rules.ts: the core's, plus
 *   checkpoint/schedule   co-ordinated / communication-induced only: index word first, forced checkpoint before the delivery
 *   causal/stable-dets    hybrid only: onDeliver append, onRecover read the stable log (after restore)
 *   causal/det-log        onDeliver merge + create determinant; onSend piggyback; onControl first (defers until restored)
 *   causal/gather         onRecover after the stable log: gather the tail from the survivors
 *   log/read-log          only with `read: ... Log determinant ...`: synchronously on stable storage (det-log then leaves reads alone),
 *                         or asynchronously on local / NFS disk (det-log piggybacks each read until it is flushed)
 *   checkpoint/independent or ckpt-only/snapshot (co-ordinated)
 *   causal/commit         onWrite between output-seq and output-emit
 */
import type { LogAction, ProtocolIR, SourceSpan } from "../../ir/types.js";
import type { Media } from "../media.js";
import { has, UnsupportedProtocolError } from "../select-common.js";
import { baseFacts, checkpointFacts, isScheduled, readLogFacts, storeFacts } from "./common.js";
import type { CausalFacts, ReadLogFacts } from "./types.js";

/**
 * Tracking variants implemented: the dependency matrix (n × n words: who depends on what), the
 * stability vector (n words of stable prefixes, and each determinant's known holders), the
 * stability matrix (n × n: how far each process holds or knows stable each process's
 * determinants, entries sent as they change), and none (all unstable determinants).
 */
const TRACKING = new Set(["dependency-matrix", "stability-vector", "stability-matrix"]);
/**
 * Hybrid: flush the stable determinant log once this many deliveries are unflushed, without waiting for
 * the timer. Bounds each piggyback's own determinants to about this many (plus those of one flush in
 * flight) at any message rate, for at most one sync per this many deliveries.
 */
const FLUSH_AT = 64;

/** `media`: what each log may be on (blocks/media.ts); a hybrid's asynchronous log needs `media.asyncLog`. */
export function causalFacts(ir: ProtocolIR, media: Media): CausalFacts {
  // ---- receive determinants: only piggybacked (pure), or also logged asynchronously on stable storage (hybrid)
  let hybrid: LogAction | null = null;
  let read: ReadLogFacts | undefined;
  for (const st of ir.nonDeterministic) {
    if (st.event === "read") {
      // `read: determinant : {...}` alone says what causal logging does with every read anyway: its
      // value is a determinant, piggybacked and gathered like a receive's (causal/det-log). With a
      // synchronous log on stable storage the values go there instead (log/read-log, as pessimistic
      // logging does): nothing depends on a value before it is durable, so none is piggybacked. With
      // an asynchronous one (the hybrid's scheme applied to reads) det-log piggybacks each value until
      // log/read-log has flushed it, and recovery takes the flushed ones from the log.
      if (st.log !== null) read = readLogFacts(st, undefined, media, true);
      continue;
    }
    if (st.event !== "receive") throw new UnsupportedProtocolError(`${st.event} determinants with causal logging`, st.loc, "remove the statement: with causal logging only receive and read determinants are piggybacked (replay regenerates sends and writes)");
    const log = st.log;
    if (log !== null) {
      if (!has(log, "determinant")) throw new UnsupportedProtocolError("logging message contents without their determinants", log.loc ?? st.loc, "write `Log determinant, message asynchronously on NFS disk` (hybrid causal), or remove the `Log`");
      if (log.how.id !== "asynchronously") throw new UnsupportedProtocolError("synchronous determinant logging together with piggybacked determinants", log.how.loc ?? st.loc, "log `asynchronously` (hybrid causal), or remove `send: Piggyback determinants` for pessimistic logging");
      if (!media.asyncLog.has(log.where.id)) throw new UnsupportedProtocolError(`asynchronous determinant logs on ${log.where.id} with causal logging`, log.where.loc ?? st.loc, `log on ${media.list(media.asyncLog)}`);
      hybrid = log;
    }
  }

  // ---- checkpoints: each process recovers from its own checkpoint (and its peers' logs), so a
  // co-ordinated or communication-induced protocol only schedules them (checkpoint/schedule.ts, as
  // under pessimistic logging)
  const ck = checkpointFacts(ir.checkpoint);
  const scheduled = isScheduled(ck);

  // ---- piggyback and sender log
  let tracking = "none";
  let pbLoc: SourceSpan | undefined;
  let senderLogLoc: SourceSpan | undefined;
  for (const st of ir.dependencyGenerating) {
    for (const pb of st.piggyback) {
      // The index checkpoint/schedule.ts piggybacks on every send.
      if (pb.id === "checkpoint-counter" && st.event === "send" && scheduled) continue;
      if (st.event !== "send" || pb.id !== "determinants") throw new UnsupportedProtocolError(`${st.event}: Piggyback ${pb.id} with causal logging`, pb.loc ?? st.loc, "piggyback only `send: Piggyback determinants` with causal logging");
      if (pb.tracking !== undefined) {
        if (!TRACKING.has(pb.tracking.id)) throw new UnsupportedProtocolError(`Piggyback determinants, ${pb.tracking.id}`, pb.tracking.loc ?? pb.loc, "use `dependency matrix`, `stability vector` or `stability matrix`, or no tracking");
        tracking = pb.tracking.id;
      }
      pbLoc = pb.loc ?? st.loc;
    }
    if (st.log !== null) {
      if (st.event === "send" && has(st.log, "message") && st.log.where.id === "volatile-memory-of-self") senderLogLoc = st.log.loc ?? st.loc;
      else throw new UnsupportedProtocolError(`${st.event}: Log ... on ${st.log.where.id}`, st.log.loc ?? st.loc, "with causal logging the only dependency-generating log is `send: Log message synchronously on volatile memory of self`");
    }
  }
  if (pbLoc === undefined) throw new UnsupportedProtocolError("receive determinants neither logged nor piggybacked", ir.nonDeterministic[0]?.loc ?? ir.recovery.loc, "add `send: Piggyback determinants`");

  // ---- output commit
  let commitLoc: SourceSpan | undefined;
  let commit = "independent";
  for (const st of ir.outputCommit) {
    if (st.proto.id === "coordinated") {
      // Co-ordinated = ask each process the output depends on to flush its own stable log. Without one
      // a determinant becomes stable only by f + 1 holders, which the independent push already does.
      if (hybrid === null) throw new UnsupportedProtocolError("coordinated output commit without a stable determinant log", st.proto.loc ?? st.loc, "use `Independent output commit on write`, or add `Log determinant, data asynchronously on NFS disk` to the `receive:` statement (hybrid causal)");
    } else if (st.proto.id !== "independent") throw new UnsupportedProtocolError(`${st.proto.id} output commit`, st.proto.loc ?? st.loc, "use `Independent output commit on write` or `Co-ordinated output commit on write`");
    commit = st.proto.id;
    commitLoc = st.loc;
  }

  // ---- recovery
  const rec = ir.recovery;
  if (rec.orphanDetection !== null) throw new UnsupportedProtocolError(`orphan detection (${rec.orphanDetection.id})`, rec.orphanDetection.loc, "remove `Protocol to detect orphans`: causal logging creates no orphans within f failures");
  if (rec.onRollback !== null) throw new UnsupportedProtocolError("On rollback actions", rec.onRollback.loc, "remove the `On rollback` statement: no live process rolls back under causal logging");
  const retrieve = rec.retrieveDeterminants?.id ?? (hybrid !== null ? "centralized" : "distributed");
  if (retrieve === "centralized" && hybrid === null) throw new UnsupportedProtocolError("centralized determinant retrieval without a stable determinant log", rec.retrieveDeterminants?.loc, "use `Protocol to retrieve determinants : distributed`, or add `Log determinant, message asynchronously on NFS disk` (hybrid causal)");

  // ---- checkpoints
  if (ck !== null && ck.proto !== "independent" && !scheduled) throw new UnsupportedProtocolError(`${ck.proto} checkpointing with causal logging`, ck.protoLoc, "use `Independent checkpoint ...`: with causal logging each process recovers from its own checkpoint");

  return {
    family: "causal",
    ...baseFacts(ir),
    ck,
    scheduled,
    store: storeFacts(ck),
    hybrid: hybrid === null ? null : { medium: hybrid.where.id, loc: hybrid.loc },
    tracking,
    pbLoc,
    pbAt: scheduled ? 2 : 1,
    read: read ?? null,
    senderLogLoc,
    commit,
    commitLoc,
    retrieve,
    retrieveLoc: rec.retrieveDeterminants?.loc,
    flushAt: FLUSH_AT,
  };
}
