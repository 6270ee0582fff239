/**
 * The family rules: which block files implement a protocol, with which
 * parameters, as one table. A row names a block, the families it belongs to,
 * and, read from the family's facts (blocks/facts/), when it is selected and
 * what its instance carries: registry id, paper module, `param()` values,
 * the reason `egida explain` prints and the spec span that caused it.
 *
 * Rows only look facts up: whatever needs deciding about the IR (and every
 * refusal) is the facts step's (facts/<family>.ts). A block with rows in
 * several families, or with a different reason per family, has one row per
 * case; at most one row of a block matches a protocol (a block is selected
 * once: blocks/chain-order.ts refuses a duplicate). Rows are grouped by
 * block, in no significant order: `selectBlocks` sorts the selection by the
 * manifests' order constraints (blocks/chain-order.ts), and checks that what
 * every selected block `requires` (its manifest) is selected too.
 *
 * Adding a block is adding its file (with its manifest) and its row here.
 */
import type { SourceSpan } from "../ir/types.js";
import type { ParamValue } from "./params.js";
import { inst, type BlockInstance } from "./select-common.js";
import type { Facts, FactsOf, ReadLogFacts, RuleFamily } from "./facts/types.js";

/** A value of a row: the same for every protocol of its families, or looked up in the facts. */
type Field<F, T> = T | ((f: F) => T);

export interface Rule<K extends RuleFamily = RuleFamily> {
  /** Block file relative to compiler/src/blocks, with `.ts`. */
  readonly block: string;
  readonly families: readonly K[];
  /** Selected only when this holds (always without it). */
  readonly when?: (f: FactsOf<K>) => boolean;
  /** Registry id (or "core") of the value that causes the block. */
  readonly id: Field<FactsOf<K>, string>;
  /** The paper module it implements (the modular back end's class). */
  readonly module: Field<FactsOf<K>, string>;
  /** Why it is selected, for `egida explain`. */
  readonly reason: Field<FactsOf<K>, string>;
  /** Its `param()` values (the manifest's `params`). */
  readonly params?: Field<FactsOf<K>, Record<string, ParamValue>>;
  /** The spec span that causes it. */
  readonly loc?: (f: FactsOf<K>) => SourceSpan | undefined;
}

/**
 * A row, its fields typed by the facts of its families. The table holds
 * rows of every family set; `selectByRules` calls a row's functions only
 * with facts of one of its families.
 */
function rule<K extends RuleFamily>(r: Rule<K>): Rule {
  return r as unknown as Rule;
}

const LOGGING = ["pessimistic", "causal", "optimistic"] as const;
const ALL = [...LOGGING, "checkpoint-only"] as const;

/** log/read-log.ts's reason: where the values go, and when they are durable. */
function readReason(r: ReadLogFacts): string {
  const what = "read determinants (<self, rsn, idx> + value)";
  if (!r.stated) {
    return `${what} logged synchronously on ${r.medium} like the receive determinants, durable before a later send or output leaves (the spec has no read statement; reads are non-deterministic events recovery must replay)`;
  }
  if (r.async) return `${what} logged asynchronously on ${r.medium} (synced on the flush timer); piggybacked until flushed; recovery reads them back`;
  if (r.wait) return `${what} logged ${r.how} on ${r.medium} before the read returns; replay returns the logged value`;
  return `${what} logged ${r.how} on ${r.medium}: appended when the read returns, durable before a later send or output leaves (log/watermark); replay returns the logged value`;
}

const CKPT_ONLY_PIGGYBACK: Readonly<Record<string, string>> = {
  coordinated: "piggyback [epoch, snapshot number]: a message sent after snapshot k forces checkpoint k first (the marker rule); other epochs dropped",
  "communication-induced": "piggyback [epoch, checkpoint index]: a higher index forces a checkpoint with that index before delivery (BCS)",
  independent: "piggyback [epoch, sender interval]: the receiver records the dependency for rollback propagation",
};

const CKPT_ONLY_ROUNDS: Readonly<Record<string, string>> = {
  coordinated: "every process restores the last complete snapshot; commit when a snapshot completes",
  "communication-induced": "recovery line of the failed processes' index; survivors roll back to it",
  independent: "recovery line by rollback propagation (domino effect possible); GC below the committed line",
};

export const FAMILY_RULES: readonly Rule[] = [
  // ---- the core: every family's message path
  rule({ block: "core/ssn.ts", families: ALL, id: "core", module: "EventHandler", reason: "per-channel send sequence numbers" }),
  rule({
    block: "core/receive.ts",
    families: ["pessimistic", "causal"],
    id: "core",
    module: "EventHandler",
    reason: "duplicate suppression and per-channel hold-back; a dropped duplicate of a delivered message is compared with it (non-determinism detection)",
    params: { "core.divergence": true },
  }),
  rule({ block: "core/receive.ts", families: ["optimistic", "checkpoint-only"], id: "core", module: "EventHandler", reason: "duplicate suppression and per-channel hold-back", params: { "core.divergence": false } }),
  rule({ block: "core/pump.ts", families: LOGGING, id: "core", module: "EventHandler", reason: "one delivery at a time; replay in rsn order" }),
  rule({
    block: "core/retransmit.ts",
    families: ["pessimistic"],
    id: "core",
    module: (f) => (f.senderLogLoc !== undefined ? "LogEventInfo" : "EventHandler"),
    reason: (f) => (f.senderLogLoc !== undefined ? "send: sender-based message log in volatile memory, kept until the receiver reports it stable" : "retransmission buffer until the receiver reports messages stable"),
    loc: (f) => f.senderLogLoc,
  }),
  rule({
    block: "core/retransmit.ts",
    families: ["causal"],
    id: "core",
    module: "LogEventInfo",
    reason: "send: sender-based message log in volatile memory (message contents stay with their senders), kept until the receiver reports it stable",
    loc: (f) => f.senderLogLoc,
  }),
  rule({ block: "core/retransmit.ts", families: ["optimistic"], id: "core", module: "EventHandler", reason: "retransmission buffer until the receiver's asynchronous log holds the message" }),
  rule({ block: "core/output-seq.ts", families: ALL, id: "core", module: "EventHandler", reason: "output numbering for the idempotent sink" }),
  rule({ block: "core/timers.ts", families: LOGGING, id: "core", module: "EventHandler", reason: "flush timer", params: (f) => ({ "flush.intervalMs": f.flushIntervalMs }) }),
  rule({ block: "core/recovery.ts", families: LOGGING, id: "core", module: "EventHandler", reason: "announce the restored delivered vector; replay; go live" }),
  rule({ block: "core/deliver.ts", families: ["pessimistic", "causal"], id: "core", module: "EventHandler", reason: "hand the message to the application", params: { "core.divergence": true } }),
  rule({ block: "core/deliver.ts", families: ["optimistic", "checkpoint-only"], id: "core", module: "EventHandler", reason: "hand the message to the application", params: { "core.divergence": false } }),
  rule({
    block: "core/transmit.ts",
    families: ["pessimistic"],
    when: (f) => f.durableSendLog === null, // else log/send-log.ts sends
    id: "core",
    module: "EventHandler",
    reason: "keep in the retransmission buffer and send (a held send once log/watermark releases it)",
  }),
  rule({ block: "core/transmit.ts", families: ["causal", "optimistic", "checkpoint-only"], id: "core", module: "EventHandler", reason: "keep in the retransmission buffer and send" }),
  rule({ block: "core/output-emit.ts", families: LOGGING, id: "core", module: "EventHandler", reason: "release the output" }),
  rule({ block: "core/read.ts", families: LOGGING, id: "core", module: "EventHandler", reason: "produce non-deterministic input" }),
  rule({ block: "core/read.ts", families: ["checkpoint-only"], id: "core", module: "EventHandler", reason: "produce non-deterministic input (not logged: apps that read are not recoverable here)" }),

  // ---- checkpoints under message logging
  rule({
    block: "checkpoint/restore.ts",
    families: ["pessimistic", "causal"],
    id: (f) => f.store.restoreId,
    module: "Checkpoint",
    reason: "restore the latest checkpoint on recovery",
    // Causal recovery gathers its determinants before the blocks' state is initialized from the checkpoint.
    params: (f) => ({ "ckpt.medium": f.store.medium, "ckpt.initAfterGather": f.family === "causal" }),
    loc: (f) => f.store.loc,
  }),
  rule({
    block: "checkpoint/restore.ts",
    families: ["optimistic"],
    when: (f) => f.ckMedium === null,
    id: "core",
    module: "Checkpoint",
    reason: "no checkpoints: recovery and rollback start from the initial state",
    params: { "ckpt.medium": "volatile-memory-of-self", "ckpt.initAfterGather": false },
  }),
  rule({
    block: "checkpoint/restore.ts",
    families: ["optimistic"],
    when: (f) => f.ckMedium !== null,
    id: "independent",
    module: "Checkpoint",
    reason: "recovery restores the latest (committed) checkpoint",
    params: (f) => ({ "ckpt.medium": f.ckMedium!, "ckpt.initAfterGather": false }),
    loc: (f) => f.ckLoc,
  }),
  rule({
    block: "checkpoint/schedule.ts",
    families: ["pessimistic", "causal"],
    when: (f) => f.scheduled,
    id: (f) => f.ck!.proto,
    module: "PiggybackCheckpointing",
    reason: (f) =>
      f.ck!.coordinated
        ? "piggyback the round number; a message of a later round forces that round's checkpoint before delivery (marker rule); rank 0 announces each round once its checkpoint is durable"
        : "piggyback the checkpoint index; a higher index forces a checkpoint with that index before delivery (BCS)",
    params: (f) => ({ "pk.coordinated": f.ck!.coordinated }),
    loc: (f) => f.ck!.protoLoc,
  }),
  rule({
    block: "checkpoint/independent.ts",
    families: ["pessimistic", "causal"],
    when: (f) => f.ck !== null && !f.ck.coordinated,
    id: (f) => f.ck!.proto,
    module: "Checkpoint",
    reason: (f) => (f.ck!.proto === "independent" ? "checkpoint on the local timer" : "basic checkpoints on the local timer"),
    params: (f) => ({ "ckpt.intervalMs": f.checkpointIntervalMs }),
    loc: (f) => f.ck!.loc,
  }),
  rule({
    block: "checkpoint/independent.ts",
    families: ["optimistic", "checkpoint-only"],
    when: (f) => f.ck !== null && !f.ck.coordinated,
    id: (f) => f.ck!.proto,
    module: "Checkpoint",
    reason: "checkpoint on the local timer",
    params: (f) => ({ "ckpt.intervalMs": f.checkpointIntervalMs }),
    loc: (f) => f.ck!.loc,
  }),
  rule({
    block: "ckpt-only/snapshot.ts",
    families: ["pessimistic", "causal"],
    when: (f) => f.ck !== null && f.ck.coordinated,
    id: "coordinated",
    module: "Checkpoint",
    reason: "rank 0 starts a round on the checkpoint timer",
    params: (f) => ({ "ckpt.intervalMs": f.checkpointIntervalMs }),
    loc: (f) => f.ck!.loc,
  }),
  rule({
    block: "checkpoint/store.ts",
    families: ["pessimistic", "causal"],
    id: (f) => f.store.storeId,
    module: "HowToCheckpoint",
    reason: "write the checkpoint, then GC logs and notify senders",
    params: (f) => ({ "ckpt.sync": f.store.sync, "ckpt.incremental": f.store.incremental }),
    loc: (f) => f.store.loc,
  }),
  rule({
    block: "checkpoint/store.ts",
    families: ["optimistic"],
    when: (f) => f.ckMedium === null, // else optimistic/checkpoint.ts
    id: "synchronously",
    module: "HowToCheckpoint",
    reason: "unused without a checkpoint statement",
    params: { "ckpt.sync": true, "ckpt.incremental": false },
  }),

  // ---- pessimistic logging
  rule({
    block: "log/event-log.ts",
    families: ["pessimistic"],
    id: "determinant",
    module: "LogEventDeterminant",
    reason: (f) =>
      `receive determinants${f.eventLog.withMessage ? " and message contents" : ""} logged ${f.eventLog.how} on ${f.eventLog.medium}: appended before delivery, durable before a later send or output leaves (log/watermark)` +
      (f.eventLog.receiverMessage ? "; message contents (receive: Log message) in the same records" : ""),
    params: (f) => ({ "log.medium": f.eventLog.medium, "log.message": f.eventLog.message }),
    loc: (f) => f.eventLog.loc,
  }),
  rule({
    block: "log/read-log.ts",
    families: ["pessimistic", "causal"],
    when: (f) => f.read !== null,
    id: "determinant",
    module: "LogEventDeterminant",
    reason: (f) => readReason(f.read!),
    params: (f) => ({ "read.medium": f.read!.medium, "read.lostTail": f.read!.lostTail, "read.async": f.read!.async, "read.wait": f.read!.wait }),
    loc: (f) => f.read!.loc,
  }),
  rule({
    block: "log/watermark.ts",
    families: ["pessimistic"],
    id: "synchronously",
    module: "HowToLog",
    reason: "pessimistic by the durable watermark: deliveries and reads append without waiting; a send or output leaves once a (group-committed) sync covers every record before it",
    params: (f) => ({ "wm.message": f.eventLog.message }),
    loc: (f) => f.eventLog.loc,
  }),
  rule({
    block: "collect/stable-log.ts",
    families: ["pessimistic"],
    id: (f) => f.retrieve,
    module: "CollectDeterminants",
    reason: (f) => (f.retrieve === "distributed" ? "replay plan from the event log, fetched back from the f processes that hold its replicas" : "replay plan from the stable event log"),
    loc: (f) => f.retrieveLoc ?? f.eventLog.loc,
  }),
  rule({
    block: "log/send-log.ts",
    families: ["pessimistic"],
    when: (f) => f.durableSendLog !== null,
    id: "message",
    module: "LogEventInfo",
    reason: (f) =>
      `send: every message also logged on ${f.durableSendLog!.medium}${f.durableSendLog!.sync ? ", durable before it leaves" : ", synced on the flush timer"}; recovery puts the records after the checkpoint back into the retransmission buffer`,
    params: (f) => ({ "slog.medium": f.durableSendLog!.medium, "slog.sync": f.durableSendLog!.sync }),
    loc: (f) => f.senderLogLoc,
  }),
  rule({
    block: "commit/independent.ts",
    families: ["pessimistic"],
    when: (f) => f.commit !== null,
    id: (f) => f.commit!.proto,
    module: "HowToOutputCommit",
    reason: (f) =>
      f.commit!.proto === "independent"
        ? "flush own determinants before output"
        : "flush own determinants before output; co-ordination would find every determinant the output depends on already stable (pessimistic), so none is asked for",
    loc: (f) => f.commit!.loc,
  }),

  // ---- causal logging
  rule({
    block: "causal/stable-dets.ts",
    families: ["causal"],
    when: (f) => f.hybrid !== null,
    id: "determinant",
    module: "LogEventDeterminant",
    reason: (f) => `receive determinants and messages logged asynchronously on ${f.hybrid!.medium} (flushed every ${f.flushIntervalMs} ms, and once ${f.flushAt} are unflushed; flushed = stable); recovery reads them first`,
    params: (f) => ({ "causal.logMedium": f.hybrid!.medium, "causal.flushAt": f.flushAt }),
    loc: (f) => f.hybrid!.loc,
  }),
  rule({
    block: "causal/det-log.ts",
    families: ["causal"],
    id: (f) => (f.tracking === "none" ? "determinants" : f.tracking),
    module: "PiggybackLogging",
    reason: (f) =>
      f.tracking === "none"
        ? `volatile determinant log; piggyback every determinant not yet stable (held by f + 1 = ${f.f + 1} processes${f.hybrid !== null ? " or flushed" : ""})`
        : `volatile determinant log with a ${f.tracking}; piggyback the determinants not yet held by f + 1 = ${f.f + 1} processes that the destination is not known to hold`,
    // A synchronous read log makes reads durable before they return (nothing to piggyback); an asynchronous one until flushed.
    params: (f) => ({ "causal.tracking": f.tracking, "causal.readLog": f.read !== null && !f.read.async, "causal.readFlush": f.read?.async === true }),
    loc: (f) => f.pbLoc,
  }),
  rule({
    block: "causal/gather.ts",
    families: ["causal"],
    id: (f) => f.retrieve,
    module: "CollectDeterminants",
    reason: (f) => `${f.hybrid !== null ? "after the stable log, " : ""}gather the determinants of own deliveries from every other process; unrecoverable if a live process depends on one nobody holds`,
    params: (f) => ({ "causal.tracking": f.tracking, "causal.pbAt": f.pbAt }),
    loc: (f) => f.retrieveLoc,
  }),
  rule({
    block: "causal/commit.ts",
    families: ["causal"],
    id: (f) => f.commit,
    module: "HowToOutputCommit",
    reason: (f) =>
      `${f.commitLoc === undefined ? "(implied: causal outputs must not depend on determinants a crash can lose) " : ""}make every held determinant stable before an output leaves${
        f.commit === "coordinated"
          ? " (flush the own log; ask each process whose unstable determinants are held here to flush its log past them; push the reads)"
          : f.hybrid !== null
            ? " (flush the own log, push the rest)"
            : " (push to the peers, wait for f acknowledgements)"
      }`,
    params: (f) => ({ "causal.commit": f.commit }),
    loc: (f) => f.commitLoc,
  }),

  // ---- optimistic logging
  rule({
    block: "optimistic/exchange.ts",
    families: ["optimistic"],
    when: (f) => f.exchange,
    id: (f) => f.orphans,
    module: "OrphanDetection",
    reason: "pull incarnation ends from the processes the vector clock depends on (flush timer; a message from an unknown incarnation); answer pulls with our token",
    loc: (f) => f.orphansLoc,
  }),
  rule({
    block: "optimistic/gate.ts",
    families: ["optimistic"],
    id: (f) => f.orphans,
    module: "OrphanDetection",
    reason: "ignore a peer's stability claims until it acknowledged our incarnation-end token",
    loc: (f) => f.orphansLoc,
  }),
  rule({
    block: "optimistic/clock.ts",
    families: ["optimistic"],
    id: "vector-clock",
    module: "PiggybackLogging",
    reason: "fault-tolerant vector clock (incarnation, timestamp) per process; discard orphan messages, postpone ones from unknown incarnations",
    loc: (f) => f.pbLoc,
  }),
  rule({
    block: "optimistic/async-log.ts",
    families: ["optimistic"],
    id: "determinant",
    module: "LogEventDeterminant",
    reason: (f) => `receive determinants, message contents and read values logged asynchronously on ${f.medium}; flushed by the timer`,
    params: (f) => ({ "log.medium": f.medium }),
    loc: (f) => f.logLoc,
  }),
  rule({
    block: "optimistic/collect.ts",
    families: ["optimistic"],
    id: (f) => f.retrieve,
    module: "CollectDeterminants",
    reason: (f) => (f.exchange ? "replay what reached the stable log; new incarnation (its end is pulled, not broadcast)" : "replay what reached the stable log; new incarnation; broadcast its end"),
    params: (f) => ({ "opt.broadcast": !f.exchange }),
    loc: (f) => f.retrieveLoc ?? f.logLoc,
  }),
  rule({
    block: "optimistic/orphan.ts",
    families: ["optimistic"],
    id: (f) => f.orphans,
    module: "OrphanDetection",
    reason: "on an incarnation-end token: discard orphan messages, detect being an orphan, acknowledge",
    params: (f) => ({ "opt.broadcast": !f.exchange }),
    loc: (f) => f.orphansLoc,
  }),
  rule({
    block: "optimistic/commit.ts",
    families: ["optimistic"],
    id: "coordinated",
    module: "HowToOutputCommit",
    reason: "every process the output depends on (vector clock) flushes and acknowledges before release",
    loc: (f) => f.commitLoc,
  }),
  rule({
    block: "optimistic/on-rollback-log.ts",
    families: ["optimistic"],
    when: (f) => f.rollback?.kind === "log",
    id: "log",
    module: "LogEventInfo",
    reason: (f) => `On rollback: make the delivered determinants and messages stable on ${f.medium} first`,
    loc: (f) => f.rollback!.loc,
  }),
  rule({
    block: "optimistic/on-rollback-ckpt.ts",
    families: ["optimistic"],
    when: (f) => f.rollback?.kind === "checkpoint",
    id: "checkpoint",
    module: "Checkpoint",
    reason: (f) => `On rollback: a committed checkpoint on ${f.rollback!.medium} right after the rollback's replay`,
    loc: (f) => f.rollback!.loc,
  }),
  rule({
    block: "optimistic/rollback.ts",
    families: ["optimistic"],
    id: (f) => f.orphans,
    module: "OrphanDetection",
    reason: "an orphan rolls back to its latest non-orphan state between deliveries",
    params: (f) => ({ "opt.broadcast": !f.exchange }),
    loc: (f) => f.orphansLoc,
  }),
  rule({
    block: "optimistic/finish.ts",
    families: ["optimistic"],
    id: "coordinated",
    module: "HowToOutputCommit",
    reason: "at job end, finish waits until every pending output commit is released or dropped and no rollback is pending",
    loc: (f) => f.commitLoc,
  }),
  rule({
    block: "optimistic/exchange-finish.ts",
    families: ["optimistic"],
    when: (f) => f.exchange,
    id: (f) => f.orphans,
    module: "OrphanDetection",
    reason: "at job end, finish also waits until every vector-clock entry is known stable (nobody pushes incarnation ends)",
    loc: (f) => f.orphansLoc,
  }),
  rule({
    block: "optimistic/checkpoint.ts",
    families: ["optimistic"],
    when: (f) => f.ckMedium !== null, // replaces checkpoint/store.ts
    id: (f) => f.ckHow,
    module: "HowToCheckpoint",
    reason: "committed checkpoints: the capture's vector clock made stable everywhere, then written; log and history truncated",
    params: (f) => ({ "ckpt.sync": f.ckHow === "synchronously", "ckpt.incremental": f.ck?.incremental === true }),
    loc: (f) => f.ckLoc,
  }),

  // ---- checkpoint-only protocols
  rule({ block: "ckpt-only/pump.ts", families: ["checkpoint-only"], id: "core", module: "EventHandler", reason: "one delivery at a time; checkpoints between deliveries; held during recovery rounds" }),
  rule({
    block: "ckpt-only/index-pb.ts",
    families: ["checkpoint-only"],
    id: (f) => (f.counter ? "checkpoint-counter" : f.ck.proto),
    module: "PiggybackCheckpointing",
    reason: (f) => CKPT_ONLY_PIGGYBACK[f.ck.proto]!,
    params: (f) => ({ "cp.force": f.ck.proto !== "independent", "cp.byKey": f.ck.proto === "independent" }),
    loc: (f) => f.counterLoc ?? f.ck.loc,
  }),
  rule({
    block: "ckpt-only/output.ts",
    families: ["checkpoint-only"],
    id: (f) => f.ck.proto,
    module: "HowToOutputCommit",
    reason: "outputs leave once a committed line covers them (no recovery goes below it)",
    loc: (f) => f.ck.loc,
  }),
  rule({
    block: "ckpt-only/snapshot.ts",
    families: ["checkpoint-only"],
    when: (f) => f.ck.coordinated,
    id: (f) => f.ck.proto,
    module: "Checkpoint",
    reason: "rank 0 starts a snapshot on the checkpoint timer",
    params: (f) => ({ "ckpt.intervalMs": f.checkpointIntervalMs }),
    loc: (f) => f.ck.loc,
  }),
  rule({
    block: "ckpt-only/rounds.ts",
    families: ["checkpoint-only"],
    id: (f) => f.ck.proto,
    module: "Checkpoint",
    reason: (f) => CKPT_ONLY_ROUNDS[f.ck.proto]!,
    params: (f) => ({ "cp.kind": f.ck.proto }),
    loc: (f) => f.ck.loc,
  }),
  rule({
    block: "ckpt-only/dlv-ack.ts",
    families: ["checkpoint-only"],
    when: (f) => f.ck.coordinated,
    id: (f) => f.ck.proto,
    module: "Checkpoint",
    reason: "receivers acknowledge deliveries, so a snapshot saves only the messages that may be in transit across it",
    params: () => ({ "cp.ackEvery": 64 }),
    loc: (f) => f.ck.loc,
  }),
  rule({
    block: "ckpt-only/store.ts",
    families: ["checkpoint-only"],
    id: (f) => f.ck.how,
    module: "HowToCheckpoint",
    reason: "write checkpoints with their history; never drop one a recovery line may need",
    params: (f) => ({ "ckpt.medium": f.ck.medium, "ckpt.sync": f.ck.sync, "ckpt.incremental": f.ck.incremental }),
    loc: (f) => f.ck.loc,
  }),
];

function value<F, T>(field: Field<F, T>, facts: F): T {
  return typeof field === "function" ? (field as (f: F) => T)(facts) : field;
}

/** The blocks the table's rows give a protocol with these facts, in table order. */
export function selectByRules(facts: Facts, rules: readonly Rule[] = FAMILY_RULES): BlockInstance[] {
  const out: BlockInstance[] = [];
  for (const r of rules) {
    if (!r.families.includes(facts.family)) continue;
    if (r.when !== undefined && !r.when(facts)) continue;
    out.push(inst(r.block, value(r.id, facts), value(r.module, facts), value(r.reason, facts), r.params === undefined ? {} : value(r.params, facts), r.loc?.(facts)));
  }
  return out;
}
