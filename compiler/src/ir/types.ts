/**
 * The typed IR: a JSON description of one protocol, the contract between the
 * front end (parse → lower → check → classify) and every back end.
 *
 * Values of the paper's Figure 2 variables are *canonical block ids* from the
 * block registry (for example "nfs-disk", "coordinated"), never raw spellings:
 * the registry maps every accepted spelling to one id. The JSON Schema in
 * `compiler/schema/ir.schema.json` mirrors these types and is the published
 * form; keep the two in step.
 */

/** A place in the spec source. Lines and columns are 1-based; offsets 0-based. */
export interface SourceSpan {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly endOffset: number;
}

/** Every IR node may carry the span it was lowered from (absent for IR read from JSON). */
export interface Located {
  readonly loc?: SourceSpan;
}

export type EventKind = "send" | "receive" | "read" | "write";

/** A registry-checked value: the canonical block id plus where it was written. */
export interface BlockRef extends Located {
  /** Canonical id, e.g. "nfs-disk". */
  readonly id: string;
}

/** `<event> : determinant : {...} [Log ... on <stable-storage>]` */
export interface NonDetStatement extends Located {
  readonly event: EventKind;
  /** Field names in the order written, e.g. ["source", "sesn", "dest", "desn"]. */
  readonly determinant: readonly string[];
  readonly log: LogAction | null;
}

/** `Log <event-info-list> <how-to-log> on <where-to-log>` */
export interface LogAction extends Located {
  /** Canonical event-info ids: "determinant" | "message". */
  readonly info: readonly BlockRef[];
  /** "synchronously" | "asynchronously" (a registry id). */
  readonly how: BlockRef;
  /** A storage id, e.g. "nfs-disk", "volatile-memory-of-self". */
  readonly where: BlockRef;
}

/** `<output-commit-proto> output commit on <event-list>` */
export interface OutputCommitStatement extends Located {
  readonly proto: BlockRef;
  readonly events: readonly EventKind[];
}

/** `<event> : [Piggyback ...] [Log ...]` */
export interface DepGenStatement extends Located {
  readonly event: EventKind;
  /** Piggybacked values; the optional determinant-tracking modifier is its own block. */
  readonly piggyback: readonly PiggybackValue[];
  readonly log: LogAction | null;
}

export interface PiggybackValue extends BlockRef {
  /** For "determinants": an optional stability-tracking block ("dependency-matrix", ...). */
  readonly tracking?: BlockRef;
}

/** `<ckpt-proto> checkpoint <how> on <stable-storage> Implementation : <impl>` */
export interface CheckpointStatement extends Located {
  readonly proto: BlockRef;
  readonly how: BlockRef;
  readonly storage: BlockRef;
  readonly impl: BlockRef;
}

export interface RollbackAction extends Located {
  /** "log": save the listed event infos; "checkpoint": take an independent checkpoint. */
  readonly kind: "log" | "checkpoint";
  readonly info: readonly BlockRef[];
  readonly storage: BlockRef;
}

export interface RecoveryStatement extends Located {
  readonly retrieveDeterminants: BlockRef | null;
  readonly orphanDetection: BlockRef | null;
  readonly onRollback: RollbackAction | null;
}

/** The extensions the paper leaves open (section 4 of egida-language.md). */
export interface ProtocolOptions {
  /** Concurrent failures tolerated. Default 1. */
  readonly f: number;
  /** Period of the checkpoint timer, ms. Default 2000. */
  readonly checkpointIntervalMs: number;
  /** Period of the asynchronous-log flush timer, ms. Default 100. */
  readonly flushIntervalMs: number;
}

export interface ProtocolIR {
  readonly irVersion: 1;
  /** npm-package-safe, identifier-stem-safe name; default from the file name. */
  readonly name: string;
  readonly options: ProtocolOptions;
  readonly nonDeterministic: readonly NonDetStatement[];
  readonly outputCommit: readonly OutputCommitStatement[];
  readonly dependencyGenerating: readonly DepGenStatement[];
  readonly checkpoint: CheckpointStatement | null;
  readonly recovery: RecoveryStatement;
  /** Where the spec came from, for headers and diagnostics. */
  readonly source?: { readonly file: string };
}

export type Family =
  | "pessimistic"
  | "causal"
  | "optimistic"
  | "checkpoint-coordinated"
  | "checkpoint-communication-induced"
  | "checkpoint-independent"
  | "none";

export interface Classification {
  readonly family: Family;
  /** "sender-based" | "receiver-based" | "hybrid" etc, when the family has variants. */
  readonly variant?: string;
  /** Guarantees from section 5 of egida-language.md, as sentences. */
  readonly guarantees: readonly string[];
}

/** The checked protocol: what back ends consume. */
export interface CheckedProtocol {
  readonly ir: ProtocolIR;
  readonly classification: Classification;
}
