/**
 * Load, compile and check one spec for a subcommand: read the file, load the
 * registry for its directory (built-ins plus the nearest egida.config.json's
 * plugins), parse or read IR JSON, then run the semantic checks.
 */
import { dirname, resolve } from "node:path";
import type { Diagnostic } from "../diagnostics/types.js";
import { renderDiagnostic } from "../diagnostics/render.js";
import { loadRegistry, parseSpec } from "../frontend.js";
import { decodeSpec } from "../parse/decode.js";
import { readSpecFile } from "../parse/read-spec.js";
import { locateJsonPath } from "../config/json-locate.js";
import type { ProtocolIR } from "../ir/types.js";
import { checkProtocol } from "../passes/check.js";
import type { Registry } from "../registry/types.js";
import type { CliContext } from "./context.js";

export interface LoadedSpec {
  readonly file: string;
  /** Null when the spec has errors (or could not be read). */
  readonly ir: ProtocolIR | null;
  /** The decoded spec text, null when it could not be read or decoded. */
  readonly source: string | null;
  readonly registry: Registry | null;
  readonly diagnostics: readonly Diagnostic[];
  readonly errors: number;
  readonly warnings: number;
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

/** Loads a spec and prints its diagnostics to stderr. */
export async function loadAndCheck(file: string, ctx: CliContext): Promise<LoadedSpec> {
  // Bounded: a device, a FIFO or a huge file is refused without reading it all (read-spec.ts).
  const read = await readSpecFile(file);
  if (!read.ok) {
    const hint = read.diagnostic.hint ? ` (hint: ${read.diagnostic.hint})` : "";
    ctx.io.stderr(`${ctx.c.bold(file)}: ${ctx.c.red(ctx.c.bold("error"))}: ${read.diagnostic.message}${hint}\n`);
    return { file, ir: null, source: null, registry: null, diagnostics: [], errors: 1, warnings: 0 };
  }
  const bytes = read.bytes;
  const reg = await registryFor(file);
  // The registry's own problems (a broken egida.config.json) belong to the config file, shown once per spec.
  const diagnostics: Diagnostic[] = [...reg.diagnostics];
  const isJson = file.toLowerCase().endsWith(".json");
  const parsed = parseSpec(bytes, file, reg.registry);
  diagnostics.push(...parsed.diagnostics);
  let ir = parsed.ir;
  if (ir) {
    const checked = checkProtocol(ir, reg.registry, file);
    diagnostics.push(...(isJson ? checked.map((d) => relocateInJson(d, bytes, file)) : checked));
  }
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  if (errors > 0) ir = null;
  // The same decoding the parser used, so carets land where the spans say.
  const decoded = decodeSpec(bytes, file);
  const source = decoded.ok ? decoded.text : null;
  for (const d of diagnostics) {
    // Config diagnostics point into the config file, whose text we do not hold.
    ctx.io.stderr(renderDiagnostic(d, d.file === file ? source : null, { color: ctx.color }) + "\n\n");
  }
  return { file, ir, source, registry: reg.registry, diagnostics, errors, warnings: diagnostics.length - errors };
}

/**
 * IR printed by `check --json` keeps the spans of the spec it came from; in the
 * JSON file they would put carets in the wrong place, so point at the JSON
 * node instead.
 */
function relocateInJson(d: Diagnostic, bytes: Uint8Array, file: string): Diagnostic {
  const { loc: _spanInSpec, ...rest } = d;
  const decoded = decodeSpec(bytes, file);
  if (!decoded.ok || d.path === undefined) return rest;
  const loc = locateJsonPath(decoded.text, d.path);
  return loc ? { ...rest, loc } : rest;
}

export function countText(errors: number, warnings: number): string {
  const part = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  return [errors > 0 ? part(errors, "error") : "", warnings > 0 ? part(warnings, "warning") : ""].filter(Boolean).join(", ");
}
