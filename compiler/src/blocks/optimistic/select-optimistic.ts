/**
 * Block selection for optimistic logging (Damani & Garg, ICDCS 1996; Strom &
 * Yemini 1985): `send: Piggyback vector clock`, receive determinants and
 * contents logged asynchronously on stable storage, orphan detection,
 * `On rollback`, co-ordinated output commit. Called by selectBlocks, which
 * sorts the blocks by their manifests (blocks/chain-order.ts); in that order:
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
import type { ParamValue } from "../params.js";
import type { Media } from "../media.js";
import { UnsupportedProtocolError, type BlockInstance } from "../select-common.js";

function block(file: string, id: string, module: string, reason: string, params: Record<string, ParamValue> = {}, loc?: SourceSpan): BlockInstance {
  return loc === undefined ? { file, id, module, params, reason } : { file, id, module, params, loc, reason };
}

/** Optimistic: a clock piggybacked for orphan detection, or an orphan-detection protocol. */
export function isOptimistic(ir: ProtocolIR): boolean {
  return ir.recovery.orphanDetection !== null || ir.dependencyGenerating.some((st) => st.piggyback.some((p) => p.id === "vector-clock" || p.id === "logical-clock"));
}

/** `media`: the asynchronous log needs `media.asyncLog`; checkpoints (also in the memory of f other processes) `media.stableCheckpoint`. */
export function selectOptimistic(ir: ProtocolIR, media: Media): BlockInstance[] {
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
  const exchange = od.id === "exchange-vector-clock";
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
  // Where checkpoints go: the checkpoint statement's storage, or the rollback action's.
  const ckMedium = ck !== null ? ck.storage.id : rb !== null && rb.kind === "checkpoint" ? rb.storage.id : null;

  // ---- output commit
  let commitLoc: SourceSpan | undefined;
  for (const st of ir.outputCommit) {
    if (st.proto.id !== "coordinated") throw new UnsupportedProtocolError(`${st.proto.id} output commit with optimistic logging (it must wait for every process the output depends on)`, st.proto.loc ?? st.loc, "use `Co-ordinated output commit on write`");
    if (st.events.some((e) => e !== "write")) throw new UnsupportedProtocolError(`output commit on ${st.events.join(", ")}`, st.loc, "write `Co-ordinated output commit on write`");
    commitLoc = st.loc;
  }
  if (commitLoc === undefined) throw new UnsupportedProtocolError("optimistic logging without co-ordinated output commit (output could be retracted)", ir.recovery.loc, "add `Co-ordinated output commit on write`");

  const out: BlockInstance[] = [];
  if (exchange) out.push(block("optimistic/exchange.ts", od.id, "OrphanDetection", "pull incarnation ends from the processes the vector clock depends on (flush timer; a message from an unknown incarnation); answer pulls with our token", {}, od.loc));
  out.push(
    block("optimistic/gate.ts", od.id, "OrphanDetection", "ignore a peer's stability claims until it acknowledged our incarnation-end token", {}, od.loc),
    block("core/ssn.ts", "core", "EventHandler", "per-channel send sequence numbers"),
    block("core/receive.ts", "core", "EventHandler", "duplicate suppression and per-channel hold-back", { "core.divergence": false }),
    block("core/pump.ts", "core", "EventHandler", "one delivery at a time; replay in rsn order"),
    block("core/retransmit.ts", "core", "EventHandler", "retransmission buffer until the receiver's asynchronous log holds the message"),
    block("core/output-seq.ts", "core", "EventHandler", "output numbering for the idempotent sink"),
    block("core/timers.ts", "core", "EventHandler", "flush timer", { "flush.intervalMs": ir.options.flushIntervalMs }),
    ckMedium === null
      ? block("checkpoint/restore.ts", "core", "Checkpoint", "no checkpoints: recovery and rollback start from the initial state", { "ckpt.medium": "volatile-memory-of-self", "ckpt.initAfterGather": false })
      : block("checkpoint/restore.ts", "independent", "Checkpoint", "recovery restores the latest (committed) checkpoint", { "ckpt.medium": ckMedium, "ckpt.initAfterGather": false }, ck?.loc ?? rb?.loc),
    block("optimistic/clock.ts", "vector-clock", "PiggybackLogging", "fault-tolerant vector clock (incarnation, timestamp) per process; discard orphan messages, postpone ones from unknown incarnations", {}, pbLoc),
    block("optimistic/async-log.ts", "determinant", "LogEventDeterminant", `receive determinants, message contents and read values logged asynchronously on ${medium}; flushed by the timer`, { "log.medium": medium }, logLoc),
    block("optimistic/collect.ts", rec.retrieveDeterminants?.id ?? "centralized", "CollectDeterminants", exchange ? "replay what reached the stable log; new incarnation (its end is pulled, not broadcast)" : "replay what reached the stable log; new incarnation; broadcast its end", { "opt.broadcast": !exchange }, rec.retrieveDeterminants?.loc ?? logLoc),
    block("optimistic/orphan.ts", od.id, "OrphanDetection", "on an incarnation-end token: discard orphan messages, detect being an orphan, acknowledge", { "opt.broadcast": !exchange }, od.loc),
    block("optimistic/commit.ts", "coordinated", "HowToOutputCommit", "every process the output depends on (vector clock) flushes and acknowledges before release", {}, commitLoc),
  );
  if (rb !== null && rb.kind === "log") out.push(block("optimistic/on-rollback-log.ts", "log", "LogEventInfo", `On rollback: make the delivered determinants and messages stable on ${medium} first`, {}, rb.loc));
  if (rb !== null && rb.kind === "checkpoint") out.push(block("optimistic/on-rollback-ckpt.ts", "checkpoint", "Checkpoint", `On rollback: a committed checkpoint on ${rb.storage.id} right after the rollback's replay`, {}, rb.loc));
  if (ck !== null) out.push(block("checkpoint/independent.ts", "independent", "Checkpoint", "checkpoint on the local timer", { "ckpt.intervalMs": ir.options.checkpointIntervalMs }, ck.loc));
  out.push(
    block("core/recovery.ts", "core", "EventHandler", "announce the restored delivered vector; replay; go live"),
    block("core/deliver.ts", "core", "EventHandler", "hand the message to the application", { "core.divergence": false }),
    block("optimistic/rollback.ts", od.id, "OrphanDetection", "an orphan rolls back to its latest non-orphan state between deliveries", { "opt.broadcast": !exchange }, od.loc),
    block("core/transmit.ts", "core", "EventHandler", "keep in the retransmission buffer and send"),
    block("core/output-emit.ts", "core", "EventHandler", "release the output"),
    block("optimistic/finish.ts", "coordinated", "HowToOutputCommit", "at job end, finish waits until every pending output commit is released or dropped and no rollback is pending", {}, commitLoc),
  );
  if (exchange) out.push(block("optimistic/exchange-finish.ts", od.id, "OrphanDetection", "at job end, finish also waits until every vector-clock entry is known stable (nobody pushes incarnation ends)", {}, od.loc));
  out.push(
    block("core/read.ts", "core", "EventHandler", "produce non-deterministic input"),
  );
  if (ckMedium === null) out.push(block("checkpoint/store.ts", "synchronously", "HowToCheckpoint", "unused without a checkpoint statement", { "ckpt.sync": true, "ckpt.incremental": false }));
  else {
    const how = ck?.how.id ?? "asynchronously";
    out.push(
      block("optimistic/checkpoint.ts", how, "HowToCheckpoint", "committed checkpoints: the capture's vector clock made stable everywhere, then written; log and history truncated", { "ckpt.sync": how === "synchronously", "ckpt.incremental": ck?.impl.id === "incremental" }, ck?.loc ?? rb?.loc),
    );
  }
  return out;
}
