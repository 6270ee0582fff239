/**
 * What the emitters consume. `EmitBlock` is the codegen view of one
 * `BlockInstance` from `compiler/src/blocks/select.ts` (see
 * docs/codegen-design.md § Selection); `fromSelection` in emit.ts adapts.
 */
import type { CheckedProtocol, SourceSpan } from "../ir/types.js";

export type ParamValue = number | string | boolean;

export interface EmitBlock {
  /** Block file, relative to the blocks directory, with `.ts`: "log/det-sync.ts". */
  readonly file: string;
  /** Registry id of the block (for comments). */
  readonly id: string;
  /** The paper module it belongs to (the modular back end's class). */
  readonly module: string;
  /** Values substituted for `param("name")` calls. */
  readonly params: Readonly<Record<string, ParamValue>>;
  /** Spec span that caused the block (for `// spec L:C "..."`). */
  readonly loc?: SourceSpan;
}

export type EmitKind = "inline" | "modular";

/** A plugin storage medium the protocol uses: the generated factory imports its store and lists it in `media`. */
export interface PluginMedium {
  /** The medium's registry id (what the blocks pass to `openLog` / `openCheckpoints`). */
  readonly id: string;
  /** Module specifier and export name of its runtime-core MediumStore (the registry value's binding). */
  readonly module: string;
  readonly export: string;
  /** The npm dependency that provides `module`: package name and version range. */
  readonly dependency: { readonly name: string; readonly range: string };
}

export interface EmitInput {
  readonly checked: CheckedProtocol;
  /** Selected blocks in chain order (the same order for every hook). */
  readonly blocks: readonly EmitBlock[];
  /** Spec text (for comment excerpts). */
  readonly source: string;
  /** Spec path as shown in the header, e.g. "specs/fig3a-damani-garg.egida". */
  readonly specFile: string;
  /** Plugin media the spec names, in first-use order; absent or empty: built-in media only. */
  readonly media?: readonly PluginMedium[];
}
