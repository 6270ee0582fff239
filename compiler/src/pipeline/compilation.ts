/**
 * The compilation object (after peggy's `session` + AST): everything one
 * compile of one spec knows, filled in by the passes of `passes.ts` in order.
 * A pass reads what earlier passes wrote and writes its own field; nothing
 * is computed twice, and no pass throws on a user mistake: problems are
 * located diagnostics.
 */
import type { UnsupportedProtocolError, BlockInstance } from "../blocks/select.js";
import type { EmitInput, EmitKind } from "../codegen/types.js";
import type { PackageFiles, PackageOptions } from "../codegen/package.js";
import type { Diagnostic } from "../diagnostics/types.js";
import type { Classification, ProtocolIR } from "../ir/types.js";
import type { SpecAst } from "../parse/ast.js";
import type { ProtocolFacts } from "../passes/check-facts.js";
import type { Registry } from "../registry/types.js";
import type { AnalyzedPlugins } from "../codegen/plugin-analyze.js";

/** What to generate after selection: a whole npm package, or just the protocol module's source. */
export type GenerateRequest =
  /** `options` may depend on the lowered IR (regen names the repository directory after the protocol). */
  | { readonly kind: "package"; readonly options: PackageOptions | ((ir: ProtocolIR) => PackageOptions) }
  | { readonly kind: "module"; readonly emit: EmitKind };

export interface CompileOptions {
  /** The spec's path as diagnostics name it (default: `path` as given). */
  readonly file?: string;
  /** The path the generated header shows (default: `file`). */
  readonly specFile?: string;
  /** The spec's bytes or text when the caller already holds them (the read pass then does not run). */
  readonly text?: string | Uint8Array;
  /** A registry loaded by the caller (`check a b c` shares one per directory; tests pass the built-ins). */
  readonly registry?: Registry;
  /** Run selection and turn its refusals into diagnostics (default true). */
  readonly generator?: boolean;
  /** Generate code after a clean selection. */
  readonly generate?: GenerateRequest;
  /** Called as each pass starts (tests count runs; a profiler could time them). */
  readonly onPass?: (name: string) => void;
}

export interface Compilation {
  /** Where the spec is read from. */
  readonly path: string;
  /** The spec as diagnostics name it. */
  readonly file: string;
  /** The spec as the generated header names it. */
  readonly specFile: string;
  readonly options: CompileOptions;
  /** Raw input (null: unreadable). */
  bytes: string | Uint8Array | null;
  /** Decoded spec text (null: unreadable or undecodable); carets are rendered against it. */
  source: string | null;
  registry: Registry | null;
  /** The syntax tree (spec text only; IR read from JSON has none). */
  ast: SpecAst | null;
  ir: ProtocolIR | null;
  facts: ProtocolFacts | null;
  classification: Classification | null;
  /** The selected blocks in chain order, null until selection ran or when it refused. */
  selection: readonly BlockInstance[] | null;
  /** Selection's refusal, when it refused. */
  refusal: UnsupportedProtocolError | null;
  /** The spec's plugin values with block files, analyzed by the select pass (codegen/plugin-analyze.ts). */
  plugins: AnalyzedPlugins | null;
  /** Front-end diagnostics (read, registry, decode, parse, lower), in the order found. */
  readonly diagnostics: Diagnostic[];
  /** The checker's findings, unsorted until the report pass merges them into `diagnostics`. */
  readonly findings: Diagnostic[];
  /** What the generate pass produced. */
  output: { readonly input: EmitInput; readonly files?: PackageFiles; readonly source?: string } | null;
}

export function createCompilation(path: string, options: CompileOptions): Compilation {
  const file = options.file ?? path;
  return {
    path,
    file,
    specFile: options.specFile ?? file,
    options,
    bytes: options.text ?? null,
    source: null,
    registry: options.registry ?? null,
    ast: null,
    ir: null,
    facts: null,
    classification: null,
    selection: null,
    refusal: null,
    plugins: null,
    diagnostics: [],
    findings: [],
    output: null,
  };
}

/** Errors so far, front end and checker alike. */
export function hasErrors(c: Compilation): boolean {
  return c.diagnostics.some((d) => d.severity === "error") || c.findings.some((d) => d.severity === "error");
}

/** The spec is JSON IR (as printed by `check --json`) rather than spec text. */
export function isJsonInput(c: Compilation): boolean {
  return c.file.toLowerCase().endsWith(".json");
}

/**
 * One pass. `applies` says whether the compilation has what the pass needs
 * (a pass after a fatal problem does not run); `run` does the work once.
 */
export interface Pass {
  readonly name: string;
  applies(c: Compilation): boolean;
  run(c: Compilation): void | Promise<void>;
}
