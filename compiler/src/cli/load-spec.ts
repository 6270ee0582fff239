/**
 * Compile one spec for a subcommand through the pipeline (pipeline/passes.ts),
 * once: read, registry (built-ins plus the nearest egida.config.json's
 * plugins), decode, parse or read IR JSON, lower, facts, classify, check,
 * select, and, for `compile`, generate. Prints the diagnostics to stderr.
 */
import { dirname, resolve } from "node:path";
import type { Diagnostic } from "../diagnostics/types.js";
import { renderDiagnostic } from "../diagnostics/render.js";
import { loadRegistry } from "../frontend.js";
import type { Classification, ProtocolIR } from "../ir/types.js";
import { compile } from "../pipeline/compile.js";
import type { Compilation, GenerateRequest } from "../pipeline/compilation.js";
import type { ProtocolFacts } from "../passes/check-facts.js";
import type { Registry } from "../registry/types.js";
import type { CliContext } from "./context.js";

export interface LoadedSpec {
  readonly file: string;
  /** Null when the spec has errors (or could not be read). */
  readonly ir: ProtocolIR | null;
  /** The decoded spec text, null when it could not be read or decoded. */
  readonly source: string | null;
  readonly registry: Registry | null;
  readonly facts: ProtocolFacts | null;
  readonly classification: Classification | null;
  readonly diagnostics: readonly Diagnostic[];
  readonly errors: number;
  readonly warnings: number;
  /** The whole compilation (selection, generated output). */
  readonly compilation: Compilation;
}

const registries = new Map<string, Promise<{ registry: Registry; diagnostics: Diagnostic[] }>>();

/** Every spec in one directory shares a registry: plugins load once. */
function registryFor(file: string): Promise<{ registry: Registry; diagnostics: Diagnostic[] }> {
  const dir = dirname(resolve(file));
  let r = registries.get(dir);
  if (!r) {
    r = loadRegistry(dir);
    registries.set(dir, r);
  }
  return r;
}

export interface LoadOptions {
  readonly generate?: GenerateRequest;
  /** The path the generated header shows. */
  readonly specFile?: string;
}

/** Compiles a spec and prints its diagnostics to stderr. */
export async function loadAndCheck(file: string, ctx: CliContext, opts: LoadOptions = {}): Promise<LoadedSpec> {
  const reg = await registryFor(file);
  const c = await compile(file, { registry: reg.registry, ...(opts.generate ? { generate: opts.generate } : {}), ...(opts.specFile !== undefined ? { specFile: opts.specFile } : {}) });
  if (c.bytes === null) {
    // Unreadable: one line, no excerpt to show.
    const d = c.diagnostics[0]!;
    const hint = d.hint ? ` (hint: ${d.hint})` : "";
    ctx.io.stderr(`${ctx.c.bold(file)}: ${ctx.c.red(ctx.c.bold("error"))}: ${d.message}${hint}\n`);
    return { file, ir: null, source: null, registry: null, facts: null, classification: null, diagnostics: [], errors: 1, warnings: 0, compilation: c };
  }
  // The registry's own problems (a broken egida.config.json) belong to the config file, shown once per spec.
  const diagnostics: Diagnostic[] = [...reg.diagnostics, ...c.diagnostics];
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  for (const d of diagnostics) {
    // Config diagnostics point into the config file, whose text we do not hold.
    ctx.io.stderr(renderDiagnostic(d, d.file === file ? c.source : null, { color: ctx.color }) + "\n\n");
  }
  const ok = errors === 0 && c.ir !== null;
  return {
    file,
    ir: ok ? c.ir : null,
    source: c.source,
    registry: c.registry,
    facts: c.facts,
    classification: c.classification,
    diagnostics,
    errors,
    warnings: diagnostics.length - errors,
    compilation: c,
  };
}

export function countText(errors: number, warnings: number): string {
  const part = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  return [errors > 0 ? part(errors, "error") : "", warnings > 0 ? part(warnings, "warning") : ""].filter(Boolean).join(", ");
}
