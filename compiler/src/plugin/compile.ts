/**
 * The bundler-independent half of the build-step plugin: one spec file →
 * the generated protocol module as JavaScript, or located diagnostics.
 *
 *   read → registry (built-ins + egida.config.json plugins) → parse → lower →
 *   check → classify → select → emit (inline | modular) → transpile (TS → JS)
 *
 * Nothing here throws on a user mistake: bad specs, unreadable files and
 * protocols the block library does not implement come back as diagnostics.
 * The output is a pure function of the spec, its registry, the block library
 * and `specFile` (the path the header shows): no timestamps, no absolute paths.
 */
import { dirname } from "node:path";
import { ts } from "ts-morph";
import { UnsupportedProtocolError } from "../blocks/select.js";
import { findConfig } from "../config/find-config.js";
import { renderDiagnostic } from "../diagnostics/render.js";
import type { Diagnostic } from "../diagnostics/types.js";
import { loadRegistry, parseSpec } from "../frontend.js";
import { decodeSpec } from "../parse/decode.js";
import { readSpecFile } from "../parse/read-spec.js";
import { checkProtocol } from "../passes/check.js";
import { refusalDiagnostic } from "../passes/check-generate.js";
import { classify } from "../passes/classify.js";
import type { Library } from "../codegen/library.js";
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

/** The block library, analysed once per process (it is egida-gen's own, and never changes under a build). */
let library: Library | undefined;
async function blockLibrary(): Promise<Library> {
  if (!library) {
    const pipeline = await import("../codegen/pipeline.js");
    library = pipeline.blockLibrary();
  }
  return library;
}

/** Compile the spec at `path` (absolute) to a JavaScript module. */
export async function compileSpecFile(path: string, opts: CompileSpecOptions): Promise<CompiledSpec> {
  const file = opts.specFile;
  const config = findConfig(dirname(path));
  const watchFiles = config === null ? [path] : [path, config];
  // Bounded: a device, a FIFO or a huge file is refused without reading it all.
  const read = await readSpecFile(path, file);
  if (!read.ok) return { code: null, source: null, watchFiles, diagnostics: [read.diagnostic] };
  const bytes = read.bytes;
  const decoded = decodeSpec(bytes, file);
  const source = decoded.ok ? decoded.text : null;
  const reg = await loadRegistry(dirname(path));
  const diagnostics: Diagnostic[] = [...reg.diagnostics];
  const parsed = parseSpec(bytes, file, reg.registry);
  diagnostics.push(...parsed.diagnostics);
  if (parsed.ir) diagnostics.push(...checkProtocol(parsed.ir, reg.registry, file));
  const fail = (extra: readonly Diagnostic[] = []): CompiledSpec => ({ code: null, source, watchFiles, diagnostics: [...diagnostics, ...extra] });
  if (!parsed.ir || source === null || diagnostics.some((d) => d.severity === "error")) return fail();

  const checked = { ir: parsed.ir, classification: classify(parsed.ir, reg.registry) };
  const [{ emitInputFor }, { emitSource }] = await Promise.all([import("../codegen/pipeline.js"), import("../codegen/package.js")]);
  let tsSource: string;
  try {
    tsSource = emitSource(await blockLibrary(), emitInputFor(checked, source, file), opts.emit ?? "inline");
  } catch (e: unknown) {
    if (e instanceof UnsupportedProtocolError) {
      // Only specs that name plugin values get here (the checker reports refusals of built-in ones).
      // The checker's warning about it (W-plugin-not-generated) becomes this error.
      const d = refusalDiagnostic(e, file);
      return { code: null, source, watchFiles, diagnostics: [...diagnostics.filter((x) => x.code !== "W-plugin-not-generated"), d] };
    }
    throw e; // CodegenError and the like: an egida-gen bug, not the user's.
  }
  return { code: toJavaScript(tsSource, file), source, watchFiles, diagnostics };
}

/**
 * The emitted TypeScript as JavaScript. Runtime imports in generated code are
 * type-only and vanish; what remains imports only `node:` built-ins.
 */
export function toJavaScript(tsSource: string, file: string): string {
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
