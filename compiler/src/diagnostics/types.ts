import type { SourceSpan } from "../ir/types.js";

export type Severity = "error" | "warning";

/**
 * Every diagnostic carries a location. For IR read from JSON, `loc` may be
 * absent and `path` (a JSON pointer) names the place instead.
 */
export interface Diagnostic {
  readonly severity: Severity;
  /** Stable machine-readable code, e.g. "E-unknown-value", "W-orphan-detection-unneeded". */
  readonly code: string;
  readonly message: string;
  readonly file: string;
  readonly loc?: SourceSpan;
  readonly path?: string;
  /** What the user can do about it. */
  readonly hint?: string;
}
