/**
 * What the steps of selection share: the `BlockInstance` they return and the
 * refusal (`UnsupportedProtocolError`). Its own file so that select.ts, the
 * facts steps (blocks/facts/) and the rule table (blocks/family-rules.ts)
 * import it instead of each other.
 */
import type { LogAction, SourceSpan } from "../ir/types.js";
import type { ParamValue } from "./params.js";

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

/** The code of a refusal the block library may lift one day: a row of the table in docs/protocols.md. */
export const NOT_SUPPORTED_YET = "E-not-supported-yet";

/**
 * A construct block selection refuses, where the spec asks for it, and what
 * to write instead. The checker runs selection (passes/check-generate.ts) and
 * reports every refusal as a located error diagnostic with `code` and `hint`,
 * so a spec that passes `egida-gen check` always generates: this is the one
 * place the refusal rules live.
 *
 * `code` is NOT_SUPPORTED_YET for what no block implements yet (the table of
 * docs/protocols.md lists each), or the code of an error for a combination
 * that has no meaning (e.g. output commit in a checkpoint-only protocol); the
 * construct is then the whole message.
 */
export class UnsupportedProtocolError extends Error {
  override readonly name = "UnsupportedProtocolError";
  constructor(
    readonly construct: string,
    readonly loc: SourceSpan | undefined,
    /** What to write instead. Every refusal a checker-valid spec can reach must have one (codegen-property.test.ts). */
    readonly hint?: string,
    readonly code: string = NOT_SUPPORTED_YET,
  ) {
    super(`${refusalMessage(construct, code)}${loc ? ` (spec ${loc.line}:${loc.column})` : ""}`);
  }
}

/** The diagnostic's message for a refusal. */
export function refusalMessage(construct: string, code: string): string {
  return code === NOT_SUPPORTED_YET ? `not supported yet: ${construct}` : construct;
}

/** Whether a Log action logs `info` (determinant, message). */
export function has(log: LogAction, info: string): boolean {
  return log.info.some((i) => i.id === info);
}

export function inst(file: string, id: string, module: string, reason: string, params: Record<string, ParamValue> = {}, loc?: SourceSpan): BlockInstance {
  return loc === undefined ? { file, id, module, params, reason } : { file, id, module, params, loc, reason };
}
