/**
 * The bundler-independent half of the build-step plugin: one spec file →
 * the generated protocol module as JavaScript, or located diagnostics.
 *
 *   the pipeline (pipeline/passes.ts: read → registry → decode → parse →
 *   lower → facts → classify → check → select → generate) → transpile (TS → JS)
 *
 * Nothing here throws on a user mistake: bad specs, unreadable files and
 * protocols the block library does not implement come back as diagnostics.
 * The output is a pure function of the spec, its registry, the block library
 * and `specFile` (the path the header shows): no timestamps, no absolute paths.
 */
import { dirname } from "node:path";
import { findConfig } from "../config/find-config.js";
import { renderDiagnostic } from "../diagnostics/render.js";
import type { Diagnostic } from "../diagnostics/types.js";
import { compile } from "../pipeline/compile.js";
import type { EmitKind } from "../codegen/types.js";

export interface CompileSpecOptions {
  /** Back end; default "inline". */
  readonly emit?: EmitKind;
  /** The spec's path as diagnostics and the generated header show it (e.g. relative to the project root). */
  readonly specFile: string;
}

export interface CompiledSpec {
  /** The protocol module as ES2022 JavaScript (exports `protocol`, the ProtocolFactory, and the protocol class); null on errors. */
  readonly code: string | null;
  /** Errors first-class; warnings are reported but do not stop the build. */
  readonly diagnostics: readonly Diagnostic[];
  /** Decoded spec text (for carets), null if unreadable. */
  readonly source: string | null;
  /** Files whose change should rebuild the module: the spec, and the egida.config.json that applies to it. */
  readonly watchFiles: readonly string[];
}

/** Compile the spec at `path` (absolute) to a JavaScript module: one run of the pipeline. */
export async function compileSpecFile(path: string, opts: CompileSpecOptions): Promise<CompiledSpec> {
  const file = opts.specFile;
  const config = findConfig(dirname(path));
  const watchFiles = config === null ? [path] : [path, config];
  const c = await compile(path, { file, generate: { kind: "module", emit: opts.emit ?? "inline" } });
  const source = c.source;
  const output = c.output?.source;
  const failed = c.diagnostics.some((d) => d.severity === "error");
  // A refusal of a plugin value: the checker's warning about it (W-plugin-not-generated) became the generate pass's error.
  const diagnostics = c.refusal !== null && failed ? c.diagnostics.filter((d) => d.code !== "W-plugin-not-generated") : c.diagnostics;
  if (output === undefined || failed) return { code: null, source, watchFiles, diagnostics };
  return { code: await toJavaScript(output, file), source, watchFiles, diagnostics };
}

/**
 * The emitted TypeScript as JavaScript. The SPI imports in generated code are
 * type-only and vanish; what remains imports `node:` built-ins and the
 * runtime's protocol helpers (`@egida/runtime-core/protocol-lib`), which the
 * bundler resolves from the project's `@egida/runtime-core`.
 */
export async function toJavaScript(tsSource: string, file: string): Promise<string> {
  // TypeScript loads here only, when a module is built (a cold compile of the protocol needs none of it).
  const { ts } = await import("ts-morph");
  const out = ts.transpileModule(tsSource, {
    fileName: `${file}.ts`,
    reportDiagnostics: false,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
      useDefineForClassFields: true,
      removeComments: false,
      sourceMap: false,
      inlineSourceMap: false,
    },
  });
  // The header rides on the first statement, a type-only import that transpiling erases: keep it.
  const header = /^\/\/ @generated[^\n]*\n/.exec(tsSource)?.[0] ?? "";
  return header !== "" && !out.outputText.startsWith(header) ? header + out.outputText : out.outputText;
}

/** Diagnostics as plain text with caret lines; those pointing into another file (egida.config.json) get no excerpt. */
export function renderPlain(ds: readonly Diagnostic[], source: string | null, specFile: string): string {
  return ds.map((d) => renderDiagnostic(d, d.file === specFile ? source : null, { color: false })).join("\n\n");
}
