/**
 * Block selection: which block files implement a checked protocol, in chain
 * order (one global order, consistent with every hook's chain — Figure 5's
 * module order between the core's first and last steps), with the parameters
 * substituted for their `param()` calls and the spec span that caused each.
 *
 * Chain order (why):
 *   core/ssn            onSend first: ssn + piggyback header
 *   core/receive, core/pump, core/retransmit, core/output-seq, core/timers
 *   checkpoint/restore  onRecover first: restore the checkpoint
 *   log/event-log       onDeliver: log (and wait) before core/deliver
 *   log/read-log        onRead before core/read; onOpen loads logged reads (onStart may replay them)
 *   collect/*           onRecover after restore: build the replay plan
 *   checkpoint/<proto>  timers / triggers
 *   commit/*            onWrite between output-seq and output-emit
 *   core/recovery       onRecover last: ask senders, replay, go live
 *   core/deliver        onDeliver last: the app sees the message
 *   core/transmit       onSend last: the piggyback is complete
 *   core/output-emit    onWrite last
 *   core/read           onRead last
 *   checkpoint/store    onCheckpoint last: every block has added its state
 *
 * Protocols whose blocks are not built yet are refused with
 * UnsupportedProtocolError naming the construct (never silently weakened).
 */
import type { CheckedProtocol, LogAction, NonDetStatement, ProtocolIR, SourceSpan } from "../ir/types.js";
import type { ParamValue } from "./params.js";
import { isOptimistic, selectOptimistic } from "./optimistic/select-optimistic.js";
import { isCheckpointOnly, selectCheckpointOnly } from "./ckpt-only/select-ckpt-only.js";
import { isCausal, selectCausal } from "./causal/select-causal.js";

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

export class UnsupportedProtocolError extends Error {
  override readonly name = "UnsupportedProtocolError";
  constructor(
    readonly construct: string,
    readonly loc: SourceSpan | undefined,
  ) {
    super(`the block library does not implement ${construct} yet${loc ? ` (spec ${loc.line}:${loc.column})` : ""}`);
  }
}

const STABLE_LOG_MEDIA = new Set(["local-disk", "nfs-disk", "volatile-memory-of-processes"]);

function has(log: LogAction, info: string): boolean {
  return log.info.some((i) => i.id === info);
}

function inst(file: string, id: string, module: string, reason: string, params: Record<string, ParamValue> = {}, loc?: SourceSpan): BlockInstance {
  return loc === undefined ? { file, id, module, params, reason } : { file, id, module, params, loc, reason };
}

export function selectBlocks(input: ProtocolIR | CheckedProtocol): BlockInstance[] {
  const ir = "ir" in input ? input.ir : input;
  if (isOptimistic(ir)) return selectOptimistic(ir); // blocks/optimistic/select-optimistic.ts
  if (isCheckpointOnly(ir)) return selectCheckpointOnly(ir); // blocks/ckpt-only/select-ckpt-only.ts
  if (isCausal(ir)) return selectCausal(ir); // blocks/causal/select-causal.ts
  const early: BlockInstance[] = [];
  const middle: BlockInstance[] = [];
  const late: BlockInstance[] = [];

  // ---- non-deterministic events
  let eventLog: BlockInstance | undefined;
  let readStmt: NonDetStatement | undefined;
  for (const st of ir.nonDeterministic) {
    if (st.event === "read") {
      readStmt = st;
      continue;
    }
    if (st.event !== "receive") throw new UnsupportedProtocolError(`determinants of ${st.event} events`, st.loc);
    const log = st.log;
    if (log === null) continue; // causal: handled by the dep-gen piggyback below
    if (!has(log, "determinant")) throw new UnsupportedProtocolError("logging message contents without their determinants", log.loc);
    if (log.how.id !== "synchronously") throw new UnsupportedProtocolError("asynchronous determinant logging (optimistic / hybrid causal)", log.how.loc);
    if (!STABLE_LOG_MEDIA.has(log.where.id)) throw new UnsupportedProtocolError(`determinant logs on ${log.where.id}`, log.where.loc);
    eventLog = inst(
      "log/event-log.ts",
      "determinant",
      "LogEventDeterminant",
      `receive determinants${has(log, "message") ? " and message contents" : ""} logged ${log.how.id} on ${log.where.id} before delivery`,
      { "log.medium": log.where.id, "log.message": has(log, "message"), "log.sync": true },
      log.loc ?? st.loc,
    );
  }

  const readLog = selectReadLog(readStmt, eventLog);

  // ---- dependency-generating events
  let senderLogLoc: SourceSpan | undefined;
  for (const st of ir.dependencyGenerating) {
    for (const pb of st.piggyback) throw new UnsupportedProtocolError(`Piggyback ${pb.id}`, pb.loc ?? st.loc);
    if (st.log !== null) {
      if (st.event === "send" && has(st.log, "message") && st.log.where.id === "volatile-memory-of-self") senderLogLoc = st.log.loc ?? st.loc;
      else throw new UnsupportedProtocolError(`${st.event}: Log ... on ${st.log.where.id}`, st.log.loc ?? st.loc);
    }
  }
  if (ir.nonDeterministic.some((s) => s.log === null)) {
    throw new UnsupportedProtocolError("causal logging (determinants not logged by their own statement)", ir.nonDeterministic.find((s) => s.log === null)?.loc);
  }

  // ---- output commit
  let commit: BlockInstance | undefined;
  for (const st of ir.outputCommit) {
    if (st.proto.id !== "independent") throw new UnsupportedProtocolError(`${st.proto.id} output commit`, st.proto.loc ?? st.loc);
    if (eventLog !== undefined) commit = inst("commit/independent.ts", "independent", "HowToOutputCommit", "flush own determinants before output", {}, st.loc);
  }

  // ---- recovery
  const rec = ir.recovery;
  if (rec.orphanDetection !== null) throw new UnsupportedProtocolError(`orphan detection (${rec.orphanDetection.id})`, rec.orphanDetection.loc);
  if (rec.onRollback !== null) throw new UnsupportedProtocolError("On rollback actions", rec.onRollback.loc);
  if (rec.retrieveDeterminants !== null && rec.retrieveDeterminants.id !== "centralized") {
    throw new UnsupportedProtocolError(`${rec.retrieveDeterminants.id} determinant retrieval`, rec.retrieveDeterminants.loc);
  }

  // ---- checkpoints
  const ck = ir.checkpoint;
  if (eventLog === undefined) {
    throw new UnsupportedProtocolError(ck === null ? "a protocol without logging or checkpointing" : `${ck.proto.id} checkpointing without message logging`, ck?.loc);
  }
  if (ck !== null && ck.proto.id !== "independent") throw new UnsupportedProtocolError(`${ck.proto.id} checkpointing`, ck.proto.loc ?? ck.loc);
  const ckParams = {
    // Without a checkpoint statement the store is volatile: recovery replays from the initial state.
    "ckpt.medium": ck?.storage.id ?? "volatile-memory-of-self",
    "ckpt.sync": ck === null ? true : ck.how.id === "synchronously",
    "ckpt.incremental": ck === null ? false : ck.impl.id === "incremental",
  };

  // ---- assemble in chain order
  early.push(
    inst("core/ssn.ts", "core", "EventHandler", "per-channel send sequence numbers"),
    inst("core/receive.ts", "core", "EventHandler", "duplicate suppression and per-channel hold-back"),
    inst("core/pump.ts", "core", "EventHandler", "one delivery at a time; replay in rsn order"),
    inst(
      "core/retransmit.ts",
      "core",
      senderLogLoc !== undefined ? "LogEventInfo" : "EventHandler",
      senderLogLoc !== undefined ? "send: sender-based message log in volatile memory, kept until the receiver reports it stable" : "retransmission buffer until the receiver reports messages stable",
      {},
      senderLogLoc,
    ),
    inst("core/output-seq.ts", "core", "EventHandler", "output numbering for the idempotent sink"),
    inst("core/timers.ts", "core", "EventHandler", "flush timer", { "flush.intervalMs": ir.options.flushIntervalMs }),
    inst("checkpoint/restore.ts", ck?.proto.id ?? "core", "Checkpoint", "restore the latest checkpoint on recovery", { "ckpt.medium": ckParams["ckpt.medium"] }, ck?.loc),
  );
  middle.push(eventLog);
  if (readLog !== undefined) middle.push(readLog);
  middle.push(inst("collect/stable-log.ts", rec.retrieveDeterminants?.id ?? "centralized", "CollectDeterminants", "replay plan from the stable event log", {}, rec.retrieveDeterminants?.loc ?? eventLog.loc));
  if (ck !== null) middle.push(inst("checkpoint/independent.ts", "independent", "Checkpoint", "checkpoint on the local timer", { "ckpt.intervalMs": ir.options.checkpointIntervalMs }, ck.loc));
  if (commit !== undefined) middle.push(commit);
  late.push(
    inst("core/recovery.ts", "core", "EventHandler", "announce the restored delivered vector; replay; go live"),
    inst("core/deliver.ts", "core", "EventHandler", "hand the message to the application"),
    inst("core/transmit.ts", "core", "EventHandler", "keep in the retransmission buffer and send"),
    inst("core/output-emit.ts", "core", "EventHandler", "release the output"),
    inst("core/read.ts", "core", "EventHandler", "produce non-deterministic input"),
    inst("checkpoint/store.ts", ck?.how.id ?? "synchronously", "HowToCheckpoint", "write the checkpoint, then GC logs and notify senders", { "ckpt.sync": ckParams["ckpt.sync"], "ckpt.incremental": ckParams["ckpt.incremental"] }, ck?.loc),
  );
  return [...early, ...middle, ...late];
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
 */
function selectReadLog(st: NonDetStatement | undefined, eventLog: BlockInstance | undefined): BlockInstance | undefined {
  if (st !== undefined) {
    const log = st.log;
    if (log === null) throw new UnsupportedProtocolError("read determinants that are only piggybacked (causal logging of reads)", st.loc);
    if (!has(log, "determinant")) throw new UnsupportedProtocolError("read: Log without the determinant (the value read is in it)", log.loc ?? st.loc);
    if (log.how.id !== "synchronously") throw new UnsupportedProtocolError("asynchronous read-determinant logging", log.how.loc ?? st.loc);
    if (!STABLE_LOG_MEDIA.has(log.where.id)) throw new UnsupportedProtocolError(`read determinant logs on ${log.where.id}`, log.where.loc ?? st.loc);
    return inst(
      "log/read-log.ts",
      "determinant",
      "LogEventDeterminant",
      `read determinants (<self, rsn, idx> + value) logged ${log.how.id} on ${log.where.id} before the read returns; replay returns the logged value`,
      { "read.medium": log.where.id },
      log.loc ?? st.loc,
    );
  }
  if (eventLog === undefined) return undefined;
  const medium = eventLog.params["log.medium"]!;
  return inst(
    "log/read-log.ts",
    "determinant",
    "LogEventDeterminant",
    `read determinants (<self, rsn, idx> + value) logged synchronously on ${String(medium)} like the receive determinants (the spec has no read statement; reads are non-deterministic events recovery must replay)`,
    { "read.medium": medium },
    eventLog.loc,
  );
}
