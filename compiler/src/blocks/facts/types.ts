/**
 * Selection facts: what block selection needs to know about a checked
 * protocol, derived once per family from the IR (facts/pessimistic.ts,
 * facts/causal.ts, facts/optimistic.ts, facts/checkpoint-only.ts). Deriving
 * them is also where a family refuses what its blocks do not implement
 * (UnsupportedProtocolError). The rule table (blocks/family-rules.ts) reads
 * nothing but these records: which blocks a family gets, and with which
 * parameters, is decided there by fact lookups.
 */
import type { SourceSpan } from "../../ir/types.js";

/** The families of the rule table: the classifier's three `checkpoint-*` families are one (ckpt-only/). */
export type RuleFamily = "pessimistic" | "causal" | "optimistic" | "checkpoint-only";

/** Facts every family has: the spec's options. */
interface BaseFacts {
  readonly f: number;
  readonly flushIntervalMs: number;
  readonly checkpointIntervalMs: number;
}

/** The checkpoint statement, when there is one. */
export interface CheckpointFacts {
  /** `ckpt-proto` id: independent, coordinated, communication-induced. */
  readonly proto: string;
  /** Co-ordinated or communication-induced under message logging: checkpoint/schedule.ts. */
  readonly coordinated: boolean;
  readonly medium: string;
  readonly how: string;
  readonly sync: boolean;
  readonly incremental: boolean;
  readonly loc: SourceSpan | undefined;
  /** Where the protocol is written (`proto.loc ?? loc`). */
  readonly protoLoc: SourceSpan | undefined;
}

/**
 * The checkpoint store of a message-logging family (checkpoint/restore.ts,
 * checkpoint/store.ts): the statement's, or, without one, a volatile store
 * (recovery replays from the initial state).
 */
export interface StoreFacts {
  /** Registry id the restore block is bound to: the checkpoint protocol, or "core". */
  readonly restoreId: string;
  /** Registry id the store block is bound to: how-to-ckpt. */
  readonly storeId: string;
  readonly medium: string;
  readonly sync: boolean;
  readonly incremental: boolean;
  readonly loc: SourceSpan | undefined;
}

/** Read determinants in log/read-log.ts. */
export interface ReadLogFacts {
  readonly medium: string;
  readonly how: string;
  readonly async: boolean;
  /** A synchronous log with no log/watermark (causal): the read waits for the sync. */
  readonly wait: boolean;
  readonly lostTail: boolean;
  /** Said by a `read:` statement; otherwise implied by the receive determinants' log. */
  readonly stated: boolean;
  readonly loc: SourceSpan | undefined;
}

export interface PessimisticFacts extends BaseFacts {
  readonly family: "pessimistic";
  readonly ck: CheckpointFacts | null;
  /** ck is co-ordinated or communication-induced: scheduled by checkpoint/schedule.ts. */
  readonly scheduled: boolean;
  readonly store: StoreFacts;
  /** The receive determinants' log (log/event-log.ts). */
  readonly eventLog: {
    readonly medium: string;
    readonly how: string;
    /** `Log determinant, message` under the `receive: determinant` statement. */
    readonly withMessage: boolean;
    /** `receive: Log message` (dependency-generating) puts the contents in the same records. */
    readonly receiverMessage: boolean;
    /** Contents in the records (either of the above). */
    readonly message: boolean;
    readonly loc: SourceSpan | undefined;
  };
  readonly read: ReadLogFacts;
  /** `send: Log message ...`: core/retransmit's buffer is the sender-based log. */
  readonly senderLogLoc: SourceSpan | undefined;
  /** `send: Log message` on a medium that survives the sender: log/send-log.ts instead of core/transmit. */
  readonly durableSendLog: { readonly medium: string; readonly sync: boolean } | null;
  /** The output commit statement on write (commit/independent.ts). */
  readonly commit: { readonly proto: string; readonly loc: SourceSpan | undefined } | null;
  readonly retrieve: string;
  readonly retrieveLoc: SourceSpan | undefined;
}

export interface CausalFacts extends BaseFacts {
  readonly family: "causal";
  readonly ck: CheckpointFacts | null;
  readonly scheduled: boolean;
  readonly store: StoreFacts;
  /** Hybrid: the receive determinants and messages also logged asynchronously (causal/stable-dets.ts). */
  readonly hybrid: { readonly medium: string; readonly loc: SourceSpan | undefined } | null;
  /** `Piggyback determinants[, <tracking>]`: "none" without tracking. */
  readonly tracking: string;
  readonly pbLoc: SourceSpan | undefined;
  /** Piggyback word where causal/det-log's section starts (after the ssn and a scheduled checkpoint index). */
  readonly pbAt: number;
  /** `read: ... Log determinant ...`: log/read-log.ts (det-log piggybacks reads otherwise, or until flushed). */
  readonly read: ReadLogFacts | null;
  readonly senderLogLoc: SourceSpan | undefined;
  /** Output commit: "independent" (also when implied) or "coordinated". */
  readonly commit: string;
  readonly commitLoc: SourceSpan | undefined;
  readonly retrieve: string;
  readonly retrieveLoc: SourceSpan | undefined;
  /** Hybrid: flush the stable determinant log once this many deliveries are unflushed. */
  readonly flushAt: number;
}

export interface OptimisticFacts extends BaseFacts {
  readonly family: "optimistic";
  readonly ck: CheckpointFacts | null;
  /** Where checkpoints go (the checkpoint statement's storage, or `On rollback: Take ... checkpoint on`), null: none. */
  readonly ckMedium: string | null;
  /** The checkpoint statement's span, else the rollback action's. */
  readonly ckLoc: SourceSpan | undefined;
  /** How checkpoints are written (optimistic/checkpoint.ts): the statement's, else asynchronously. */
  readonly ckHow: string;
  /** The receive log's medium (optimistic/async-log.ts). */
  readonly medium: string;
  readonly logLoc: SourceSpan | undefined;
  readonly pbLoc: SourceSpan | undefined;
  /** Orphan detection protocol. */
  readonly orphans: string;
  readonly orphansLoc: SourceSpan | undefined;
  /** `exchange vector clock`: incarnation ends are pulled (optimistic/exchange*.ts), not broadcast. */
  readonly exchange: boolean;
  readonly retrieve: string;
  readonly retrieveLoc: SourceSpan | undefined;
  /** `On rollback` action. */
  readonly rollback: { readonly kind: "log" | "checkpoint"; readonly medium: string; readonly loc: SourceSpan | undefined } | null;
  readonly commitLoc: SourceSpan | undefined;
}

export interface CheckpointOnlyFacts extends BaseFacts {
  readonly family: "checkpoint-only";
  readonly ck: CheckpointFacts;
  /** `send: Piggyback checkpoint counter`. */
  readonly counter: boolean;
  readonly counterLoc: SourceSpan | undefined;
}

export type Facts = PessimisticFacts | CausalFacts | OptimisticFacts | CheckpointOnlyFacts;

/** The facts of the families in K. */
export type FactsOf<K extends RuleFamily> = Extract<Facts, { family: K }>;
