/**
 * The syntax tree the grammar (`grammar/egida.peggy`) builds: source-faithful,
 * statements in source order, every node and every value located. Values are
 * raw phrases (the registry resolves them in the lower pass), so this tree can
 * hold values no registry knows yet.
 */
import type { SourceSpan } from "../ir/types.js";

/** One word as written (keywords excluded). */
export interface WordNode {
  readonly text: string;
  readonly loc: SourceSpan;
}

/** A value as written: words joined by single spaces, e.g. "NFS disk". */
export interface PhraseNode {
  readonly text: string;
  readonly words: readonly WordNode[];
  readonly loc: SourceSpan;
}

/** `Log <event-info-list> <how-to-log> on <where>`; `how` is null when only one word precedes `on`. */
export interface LogClauseNode {
  readonly kind: "log";
  readonly info: readonly PhraseNode[];
  readonly how: PhraseNode | null;
  readonly where: PhraseNode;
  /** The `on` keyword, where a missing how-to-log is reported. */
  readonly onLoc: SourceSpan;
  readonly loc: SourceSpan;
}

export interface NumberValueNode {
  readonly kind: "number";
  readonly value: number;
  readonly text: string;
  readonly loc: SourceSpan;
}

export interface DurationValueNode {
  readonly kind: "duration";
  readonly value: number;
  readonly text: string;
  readonly unit: "ms" | "s" | "min";
  readonly loc: SourceSpan;
}

/** `f = 2`, `tolerate f = 2`, `checkpoint every 5s`, `flush every 100ms`. */
export interface OptionNode {
  readonly kind: "option";
  readonly key: PhraseNode;
  readonly value: NumberValueNode | DurationValueNode;
  readonly loc: SourceSpan;
}

/** Extension: `protocol [NAME] [( option, ... )]`. */
export interface HeaderStmt {
  readonly kind: "header";
  readonly name: WordNode | null;
  readonly options: readonly OptionNode[];
  readonly keywordLoc: SourceSpan;
  readonly loc: SourceSpan;
}

export interface NonDetStmt {
  readonly kind: "non-det";
  readonly event: WordNode;
  readonly fields: readonly WordNode[];
  readonly fieldsLoc: SourceSpan;
  readonly log: LogClauseNode | null;
  readonly loc: SourceSpan;
}

export interface OutputCommitStmt {
  readonly kind: "output-commit";
  readonly proto: PhraseNode;
  readonly events: readonly WordNode[];
  readonly loc: SourceSpan;
}

export interface PiggybackClauseNode {
  /** Comma-separated phrases; a tracking modifier is its own phrase here. */
  readonly values: readonly PhraseNode[];
  readonly keywordLoc: SourceSpan;
  readonly loc: SourceSpan;
}

export interface DepGenStmt {
  readonly kind: "dep-gen";
  readonly event: WordNode;
  readonly piggyback: PiggybackClauseNode | null;
  readonly log: LogClauseNode | null;
  readonly loc: SourceSpan;
}

export interface CheckpointStmt {
  readonly kind: "checkpoint";
  readonly proto: PhraseNode;
  readonly how: PhraseNode;
  readonly storage: PhraseNode;
  readonly impl: PhraseNode;
  readonly loc: SourceSpan;
}

export interface RetrieveStmt {
  readonly kind: "retrieve";
  readonly value: PhraseNode;
  readonly loc: SourceSpan;
}

export interface OrphansStmt {
  readonly kind: "orphans";
  readonly value: PhraseNode;
  readonly loc: SourceSpan;
}

export interface RollbackActionNode {
  readonly kind: "log" | "checkpoint";
  /** Empty for `Take independent checkpoint`. */
  readonly info: readonly PhraseNode[];
  readonly storage: PhraseNode;
  readonly loc: SourceSpan;
}

export interface RollbackStmt {
  readonly kind: "rollback";
  readonly action: RollbackActionNode;
  readonly loc: SourceSpan;
}

export type Statement =
  | HeaderStmt
  | NonDetStmt
  | OutputCommitStmt
  | DepGenStmt
  | CheckpointStmt
  | RetrieveStmt
  | OrphansStmt
  | RollbackStmt;

export type StatementKind = Statement["kind"];

export interface SpecAst {
  readonly kind: "spec";
  readonly statements: readonly Statement[];
  readonly loc: SourceSpan;
}
