/**
 * Block selection for causal logging (`send: Piggyback determinants[, <tracking>]`,
 * receive determinants not logged synchronously): called by selectBlocks.
 * The blocks it adds to the core's, in the chain order their manifests give
 * (selectBlocks sorts them, blocks/chain-order.ts):
 *   checkpoint/schedule co-ordinated / communication-induced only: index word first, forced checkpoint before the delivery
 *   causal/stable-dets  hybrid only: onDeliver append, onRecover read the stable log (after restore)
 *   causal/det-log      onDeliver merge + create determinant; onSend piggyback; onControl first (defers until restored)
 *   causal/gather       onRecover after the stable log: gather the tail from the survivors
 *   log/read-log        only with `read: ... Log determinant ...`: synchronously on stable storage (det-log then leaves reads alone),
 *                       or asynchronously on local / NFS disk (det-log piggybacks each read until it is flushed)
 *   checkpoint/independent
 *   causal/commit       onWrite between output-seq and output-emit
 * Constructs the causal blocks do not implement are refused (UnsupportedProtocolError).
 */
import type { LogAction, ProtocolIR, SourceSpan } from "../../ir/types.js";
import { inst, scheduleBlock, selectReadLog, UnsupportedProtocolError, type BlockInstance } from "../select-common.js";
import type { Media } from "../media.js";

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

function logs(log: LogAction, info: string): boolean {
  return log.info.some((i) => i.id === info);
}

/** Does the spec describe causal logging (determinants piggybacked, or receive determinants not logged)? */
export function isCausal(ir: ProtocolIR): boolean {
  return ir.dependencyGenerating.some((st) => st.piggyback.some((p) => p.id === "determinants")) || ir.nonDeterministic.some((st) => st.event === "receive" && st.log === null);
}

/** `media`: what each log may be on (blocks/media.ts); a hybrid's asynchronous log needs `media.asyncLog`. */
export function selectCausal(ir: ProtocolIR, media: Media): BlockInstance[] {
  // ---- receive determinants: only piggybacked (pure), or also logged asynchronously on stable storage (hybrid)
  let hybrid: LogAction | null = null;
  let readLog: BlockInstance | undefined;
  for (const st of ir.nonDeterministic) {
    if (st.event === "read") {
      // `read: determinant : {...}` alone says what causal logging does with every read anyway: its
      // value is a determinant, piggybacked and gathered like a receive's (causal/det-log). With a
      // synchronous log on stable storage the values go there instead (log/read-log, as pessimistic
      // logging does): nothing depends on a value before it is durable, so none is piggybacked. With
      // an asynchronous one (the hybrid's scheme applied to reads) det-log piggybacks each value until
      // log/read-log has flushed it, and recovery takes the flushed ones from the log.
      if (st.log !== null) readLog = selectReadLog(st, undefined, media, true);
      continue;
    }
    if (st.event !== "receive") throw new UnsupportedProtocolError(`${st.event} determinants with causal logging`, st.loc, "remove the statement: with causal logging only receive and read determinants are piggybacked (replay regenerates sends and writes)");
    const log = st.log;
    if (log !== null) {
      if (!logs(log, "determinant")) throw new UnsupportedProtocolError("logging message contents without their determinants", log.loc ?? st.loc, "write `Log determinant, message asynchronously on NFS disk` (hybrid causal), or remove the `Log`");
      if (log.how.id !== "asynchronously") throw new UnsupportedProtocolError("synchronous determinant logging together with piggybacked determinants", log.how.loc ?? st.loc, "log `asynchronously` (hybrid causal), or remove `send: Piggyback determinants` for pessimistic logging");
      if (!media.asyncLog.has(log.where.id)) throw new UnsupportedProtocolError(`asynchronous determinant logs on ${log.where.id} with causal logging`, log.where.loc ?? st.loc, `log on ${media.list(media.asyncLog)}`);
      hybrid = log;
    }
  }

  // ---- checkpoints: each process recovers from its own checkpoint (and its peers' logs), so a
  // co-ordinated or communication-induced protocol only schedules them (checkpoint/schedule.ts, as
  // under pessimistic logging)
  const ck = ir.checkpoint;
  const scheduled = ck !== null && (ck.proto.id === "coordinated" || ck.proto.id === "communication-induced");

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
      if (st.event === "send" && logs(st.log, "message") && st.log.where.id === "volatile-memory-of-self") senderLogLoc = st.log.loc ?? st.loc;
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
  if (ck !== null && ck.proto.id !== "independent" && !scheduled) throw new UnsupportedProtocolError(`${ck.proto.id} checkpointing with causal logging`, ck.proto.loc ?? ck.loc, "use `Independent checkpoint ...`: with causal logging each process recovers from its own checkpoint");
  const ckMedium = ck?.storage.id ?? "volatile-memory-of-self";
  const ckSync = ck === null ? true : ck.how.id === "synchronously";
  const ckIncremental = ck === null ? false : ck.impl.id === "incremental";

  const f = ir.options.f;
  const out: BlockInstance[] = [
    inst("core/ssn.ts", "core", "EventHandler", "per-channel send sequence numbers"),
    inst("core/receive.ts", "core", "EventHandler", "duplicate suppression and per-channel hold-back; a dropped duplicate of a delivered message is compared with it (non-determinism detection)", { "core.divergence": true }),
    inst("core/pump.ts", "core", "EventHandler", "one delivery at a time; replay in rsn order"),
    inst(
      "core/retransmit.ts",
      "core",
      "LogEventInfo",
      "send: sender-based message log in volatile memory (message contents stay with their senders), kept until the receiver reports it stable",
      {},
      senderLogLoc,
    ),
    inst("core/output-seq.ts", "core", "EventHandler", "output numbering for the idempotent sink"),
    inst("core/timers.ts", "core", "EventHandler", "flush timer", { "flush.intervalMs": ir.options.flushIntervalMs }),
    inst("checkpoint/restore.ts", ck?.proto.id ?? "core", "Checkpoint", "restore the latest checkpoint on recovery", { "ckpt.medium": ckMedium, "ckpt.initAfterGather": true }, ck?.loc),
  ];
  // Before the causal blocks: a forced checkpoint precedes the delivery (its determinants and log record),
  // and the index is the first word after the ssn (causal/gather scans the piggyback after it).
  if (ck !== null && scheduled) {
    out.push(scheduleBlock(ck));
  }
  if (hybrid !== null) {
    out.push(
      inst(
        "causal/stable-dets.ts",
        "determinant",
        "LogEventDeterminant",
        `receive determinants and messages logged asynchronously on ${hybrid.where.id} (flushed every ${ir.options.flushIntervalMs} ms, and once ${FLUSH_AT} are unflushed; flushed = stable); recovery reads them first`,
        { "causal.logMedium": hybrid.where.id, "causal.flushAt": FLUSH_AT },
        hybrid.loc,
      ),
    );
  }
  out.push(
    inst(
      "causal/det-log.ts",
      tracking === "none" ? "determinants" : tracking,
      "PiggybackLogging",
      tracking === "none"
        ? `volatile determinant log; piggyback every determinant not yet stable (held by f + 1 = ${f + 1} processes${hybrid !== null ? " or flushed" : ""})`
        : `volatile determinant log with a ${tracking}; piggyback the determinants not yet held by f + 1 = ${f + 1} processes that the destination is not known to hold`,
      { "causal.tracking": tracking, "causal.readLog": readLog !== undefined && readLog.params["read.async"] !== true, "causal.readFlush": readLog?.params["read.async"] === true },
      pbLoc,
    ),
    inst(
      "causal/gather.ts",
      retrieve,
      "CollectDeterminants",
      `${hybrid !== null ? "after the stable log, " : ""}gather the determinants of own deliveries from every other process; unrecoverable if a live process depends on one nobody holds`,
      { "causal.tracking": tracking, "causal.pbAt": scheduled ? 2 : 1 },
      rec.retrieveDeterminants?.loc,
    ),
  );
  if (readLog !== undefined) out.push(readLog);
  if (ck !== null && ck.proto.id === "coordinated") {
    out.push(inst("ckpt-only/snapshot.ts", "coordinated", "Checkpoint", "rank 0 starts a round on the checkpoint timer", { "ckpt.intervalMs": ir.options.checkpointIntervalMs }, ck.loc));
  } else if (ck !== null) {
    out.push(inst("checkpoint/independent.ts", ck.proto.id, "Checkpoint", ck.proto.id === "independent" ? "checkpoint on the local timer" : "basic checkpoints on the local timer", { "ckpt.intervalMs": ir.options.checkpointIntervalMs }, ck.loc));
  }
  out.push(
    inst(
      "causal/commit.ts",
      commit,
      "HowToOutputCommit",
      `${commitLoc === undefined ? "(implied: causal outputs must not depend on determinants a crash can lose) " : ""}make every held determinant stable before an output leaves${
        commit === "coordinated"
          ? " (flush the own log; ask each process whose unstable determinants are held here to flush its log past them; push the reads)"
          : hybrid !== null
            ? " (flush the own log, push the rest)"
            : " (push to the peers, wait for f acknowledgements)"
      }`,
      { "causal.commit": commit },
      commitLoc,
    ),
    inst("core/recovery.ts", "core", "EventHandler", "announce the restored delivered vector; replay; go live"),
    inst("core/deliver.ts", "core", "EventHandler", "hand the message to the application", { "core.divergence": true }),
    inst("core/transmit.ts", "core", "EventHandler", "keep in the retransmission buffer and send"),
    inst("core/output-emit.ts", "core", "EventHandler", "release the output"),
    inst("core/read.ts", "core", "EventHandler", "produce non-deterministic input"),
    inst("checkpoint/store.ts", ck?.how.id ?? "synchronously", "HowToCheckpoint", "write the checkpoint, then GC logs and notify senders", { "ckpt.sync": ckSync, "ckpt.incremental": ckIncremental }, ck?.loc),
  );
  return out;
}
