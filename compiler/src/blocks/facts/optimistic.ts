/**
 * Optimistic logging's facts (Damani & Garg, ICDCS 1996; Strom & Yemini
 * 1985): `send: Piggyback vector clock`, receive determinants and contents
 * logged asynchronously on stable storage, orphan detection, `On rollback`,
 * co-ordinated output commit. The blocks are rows of blocks/family-rules.ts;
 * in chain order (their manifests):
 *   optimistic/gate            FIRST: onControl before core/retransmit (stale stability claims)
 *   optimistic/clock           onSend piggyback; acceptReceive; onDeliver merge before the log
 *   optimistic/async-log       onDeliver append (no wait); onRead append or replay, before core/read;
 *                              onFlushTimer sync → stable
 *   optimistic/collect         onOpen: read the log, new incarnation (before onStart replays);
 *                              onRecover after restore: plan, token
 *   optimistic/orphan          onControl tokens; onDeliver marks "in delivery"
 *   optimistic/commit          onWrite between output-seq and output-emit
 *   optimistic/on-rollback-log onRollback first (the `On rollback: Log` action, on the receive log's medium)
 *   optimistic/on-rollback-ckpt onRollback first (`On rollback: Take independent checkpoint`)
 *   checkpoint/independent     the checkpoint timer (with a checkpoint statement), before core/recovery as in every family
 *   optimistic/rollback        onDeliver AFTER core/deliver; onRollback
 *   optimistic/finish          onWrite AFTER core/output-emit (a write is through); onFinish
 *   optimistic/checkpoint      LAST in onCheckpoint: committed checkpoints (replaces checkpoint/store)
 * With `exchange vector clock` (instead of `broadcast logical clock`):
 *   optimistic/exchange        FIRST (before the gate): acceptReceive pulls before the clock parks;
 *                              onControl answers pulls, learns stability before optimistic/commit
 *   optimistic/exchange-finish onFinish AFTER optimistic/finish: every clock entry known stable
 *   and param opt.broadcast = false: optimistic/collect and optimistic/rollback send no token.
 * Refused (UnsupportedProtocolError): co-ordinated or communication-induced
 * checkpoints, checkpoints on a medium that is not stable (blocks/media.ts), read statements that do not log
 * asynchronously into the receive log, synchronous or volatile logs,
 * anything but co-ordinated output commit.
 */
import type { ProtocolIR, SourceSpan } from "../../ir/types.js";
import type { Media } from "../media.js";
import { UnsupportedProtocolError } from "../select-common.js";
import { baseFacts, checkpointFacts } from "./common.js";
import type { OptimisticFacts } from "./types.js";

/** `media`: the asynchronous log needs `media.asyncLog`; checkpoints (also in the memory of f other processes) `media.stableCheckpoint`. */
export function optimisticFacts(ir: ProtocolIR, media: Media): OptimisticFacts {
  // ---- receive: Log determinant, message asynchronously on stable storage
  let logLoc: SourceSpan | undefined;
  let medium = "";
  const readStmts = ir.nonDeterministic.filter((st) => st.event === "read");
  for (const st of ir.nonDeterministic) {
    if (st.event === "read") continue;
    if (st.event !== "receive") throw new UnsupportedProtocolError(`${st.event} determinants with optimistic logging`, st.loc, "remove the statement: replay regenerates send and write determinants");
    const log = st.log;
    if (log === null) throw new UnsupportedProtocolError("optimistic logging without a receive log", st.loc, "add `Log determinant, message asynchronously on NFS disk` under the `receive: determinant` statement");
    if (!log.info.some((i) => i.id === "determinant") || !log.info.some((i) => i.id === "message")) {
      throw new UnsupportedProtocolError("optimistic logging without both determinant and message contents in the log (recovery and rollback replay from it)", log.loc ?? st.loc, "write `Log determinant, message asynchronously on NFS disk`");
    }
    if (log.how.id !== "asynchronously") throw new UnsupportedProtocolError("synchronous logging with orphan detection", log.how.loc ?? st.loc, "log `asynchronously` (optimistic), or remove orphan detection and the piggybacked clock (pessimistic)");
    if (!media.asyncLog.has(log.where.id)) throw new UnsupportedProtocolError(`optimistic logs on ${log.where.id}`, log.where.loc ?? st.loc, `log on ${media.list(media.asyncLog)}`);
    medium = log.where.id;
    logLoc = log.loc ?? st.loc;
  }
  if (medium === "") throw new UnsupportedProtocolError("optimistic logging without a receive statement", ir.recovery.loc, "add `receive: determinant : {source, sesn, dest, desn}` then `Log determinant, message asynchronously on NFS disk`");
  // ---- read: values go into the same asynchronous log (a read is a non-deterministic event
  // like a receive). Without a read statement they are logged there anyway: a process cannot
  // be replayed without its read values. A read statement must say the same thing.
  for (const st of readStmts) {
    const log = st.log;
    if (log === null) throw new UnsupportedProtocolError("read determinants that are only piggybacked with optimistic logging", st.loc, "add `Log determinant asynchronously on` the receive log's storage under the `read:` statement");
    if (!log.info.some((i) => i.id === "determinant")) throw new UnsupportedProtocolError("read: Log without the determinant (the value read is in it)", log.loc ?? st.loc, "write `Log determinant ...`");
    if (log.how.id !== "asynchronously") throw new UnsupportedProtocolError("synchronous read logging with orphan detection (reads share the receive log, which is asynchronous)", log.how.loc ?? st.loc, "log reads `asynchronously`, on the receive log's storage");
    if (log.where.id !== medium) throw new UnsupportedProtocolError(`read determinants on ${log.where.id} (the optimistic log is on ${medium}; reads share it)`, log.where.loc ?? st.loc, "log reads on the receive log's storage");
  }

  // ---- send: Piggyback vector clock (the only dependency-generating statement)
  let pbLoc: SourceSpan | undefined;
  for (const st of ir.dependencyGenerating) {
    if (st.log !== null) throw new UnsupportedProtocolError(`${st.event}: Log with optimistic logging`, st.log.loc ?? st.loc, "remove the `Log`: the optimistic receive log holds what recovery replays");
    for (const pb of st.piggyback) {
      if (st.event !== "send" || pb.id !== "vector-clock") throw new UnsupportedProtocolError(`${st.event}: Piggyback ${pb.id} with optimistic logging`, pb.loc ?? st.loc, "piggyback only `send: Piggyback vector clock` with optimistic logging");
      pbLoc = pb.loc ?? st.loc;
    }
  }
  if (pbLoc === undefined) throw new UnsupportedProtocolError("orphan detection without a piggybacked vector clock", ir.recovery.orphanDetection?.loc ?? ir.recovery.loc, "add `send: Piggyback vector clock`");

  // ---- recovery
  const rec = ir.recovery;
  const od = rec.orphanDetection;
  if (od === null) throw new UnsupportedProtocolError("a piggybacked vector clock without orphan detection", pbLoc, "add `Protocol to detect orphans : broadcast logical clock`");
  if (od.id !== "broadcast-logical-clock" && od.id !== "exchange-vector-clock") throw new UnsupportedProtocolError(`orphan detection (${od.id})`, od.loc, "use `Protocol to detect orphans : broadcast logical clock` or `exchange vector clock`");
  if (rec.retrieveDeterminants !== null && rec.retrieveDeterminants.id !== "centralized") {
    throw new UnsupportedProtocolError(`${rec.retrieveDeterminants.id} determinant retrieval with optimistic logging`, rec.retrieveDeterminants.loc, "use `Protocol to retrieve determinants : centralized`, or drop the statement");
  }
  // ---- checkpoints: independent, committed (optimistic/checkpoint), on a disk
  const ck = ir.checkpoint;
  if (ck !== null) {
    if (ck.proto.id !== "independent") throw new UnsupportedProtocolError(`${ck.proto.id} checkpointing with optimistic logging`, ck.proto.loc ?? ck.loc, "use `Independent checkpoint ...`");
    if (!media.stableCheckpoint.has(ck.storage.id)) throw new UnsupportedProtocolError(`optimistic checkpoints on ${ck.storage.id}`, ck.storage.loc ?? ck.loc, `checkpoint on ${media.list(media.stableCheckpoint)}`);
  }
  const rb = rec.onRollback;
  if (rb !== null) {
    if (rb.kind === "log" && rb.storage.id !== medium) throw new UnsupportedProtocolError(`On rollback: Log on ${rb.storage.id} (the receive log is on ${medium})`, rb.storage.loc ?? rb.loc, "log on the receive log's storage");
    if (rb.kind === "checkpoint") {
      // One checkpoint store: the rollback's checkpoint goes where the timer's go.
      if (!media.stableCheckpoint.has(rb.storage.id)) throw new UnsupportedProtocolError(`optimistic checkpoints on ${rb.storage.id}`, rb.storage.loc ?? rb.loc, `checkpoint on ${media.list(media.stableCheckpoint)}`);
      if (ck !== null && ck.storage.id !== rb.storage.id) throw new UnsupportedProtocolError(`On rollback: Take independent checkpoint on ${rb.storage.id} (the checkpoints are on ${ck.storage.id})`, rb.storage.loc ?? rb.loc, "take the rollback's checkpoint on the checkpoint statement's storage");
    }
  }

  // ---- output commit
  let commitLoc: SourceSpan | undefined;
  for (const st of ir.outputCommit) {
    if (st.proto.id !== "coordinated") throw new UnsupportedProtocolError(`${st.proto.id} output commit with optimistic logging (it must wait for every process the output depends on)`, st.proto.loc ?? st.loc, "use `Co-ordinated output commit on write`");
    if (st.events.some((e) => e !== "write")) throw new UnsupportedProtocolError(`output commit on ${st.events.join(", ")}`, st.loc, "write `Co-ordinated output commit on write`");
    commitLoc = st.loc;
  }
  if (commitLoc === undefined) throw new UnsupportedProtocolError("optimistic logging without co-ordinated output commit (output could be retracted)", ir.recovery.loc, "add `Co-ordinated output commit on write`");

  return {
    family: "optimistic",
    ...baseFacts(ir),
    ck: checkpointFacts(ck),
    // Where checkpoints go: the checkpoint statement's storage, or the rollback action's.
    ckMedium: ck !== null ? ck.storage.id : rb !== null && rb.kind === "checkpoint" ? rb.storage.id : null,
    ckLoc: ck?.loc ?? rb?.loc,
    ckHow: ck?.how.id ?? "asynchronously",
    medium,
    logLoc,
    pbLoc,
    orphans: od.id,
    orphansLoc: od.loc,
    exchange: od.id === "exchange-vector-clock",
    retrieve: rec.retrieveDeterminants?.id ?? "centralized",
    retrieveLoc: rec.retrieveDeterminants?.loc,
    rollback: rb === null ? null : { kind: rb.kind, medium: rb.storage.id, loc: rb.loc },
    commitLoc,
  };
}
