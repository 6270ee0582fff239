/**
 * The front end's entry points: registry loading (built-ins + plugins from
 * egida.config.json), and spec text / IR JSON → ProtocolIR.
 *
 *   parse (parse/parse.ts) → lower (passes/lower.ts) → ProtocolIR
 *
 * Nothing here throws on bad input: every problem is a located Diagnostic.
 */
import type { Diagnostic } from "./diagnostics/types.js";
import type { ProtocolIR } from "./ir/types.js";
import { irFromJson } from "./ir/from-json.js";
import { parse } from "./parse/parse.js";
import { decodeSpec } from "./parse/decode.js";
import { lower } from "./passes/lower.js";
import { BUILTIN_BLOCKS } from "./registry/builtin.js";
import { createRegistry } from "./registry/registry.js";
import type { Registry } from "./registry/types.js";
import { loadConfig } from "./config/find-config.js";
import { loadPlugins } from "./config/load-plugins.js";
import { locateJsonPath } from "./config/json-locate.js";

export interface SpecResult {
  readonly ir: ProtocolIR | null;
  readonly diagnostics: Diagnostic[];
}

/**
 * The registry for specs under `startDir`: built-in blocks, then the blocks
 * of every plugin named by the nearest egida.config.json (searched from
 * `startDir` upward). Plugin problems are diagnostics; the built-ins always load.
 */
export async function loadRegistry(startDir: string): Promise<{ registry: Registry; diagnostics: Diagnostic[] }> {
  const { registry } = createRegistry(BUILTIN_BLOCKS);
  const config = loadConfig(startDir);
  const diagnostics: Diagnostic[] = [...config.diagnostics];
  const plugins = await loadPlugins(config);
  diagnostics.push(...plugins.diagnostics);
  for (const block of plugins.blocks) {
    for (const p of registry.add(block)) {
      const index = config.config.plugins.indexOf(block.origin);
      const path = `/plugins/${index}`;
      diagnostics.push({
        severity: "error",
        code: "E-plugin",
        message: `plugin \`${block.origin}\`: ${p.message}`,
        file: config.path ?? "egida.config.json",
        path,
        ...(config.text ? { loc: locateJsonPath(config.text, path) } : {}),
        hint: "spellings must be unique per variable and writable in a spec (see the header of grammar/egida.peggy)",
      });
    }
  }
  return { registry, diagnostics };
}

/** Spec text (or an IR `.json` file's text) → IR, or diagnostics. */
export function parseSpec(text: string | Uint8Array, file: string, registry: Registry): SpecResult {
  if (file.toLowerCase().endsWith(".json")) {
    const decoded = decodeSpec(text, file);
    if (!decoded.ok) return { ir: null, diagnostics: [decoded.diagnostic] };
    return irFromJson(decoded.text, file, registry);
  }
  const parsed = parse(text, file);
  if (!parsed.ast) return { ir: null, diagnostics: [...parsed.diagnostics] };
  const lowered = lower(parsed.ast, file, registry);
  return { ir: lowered.ir, diagnostics: [...lowered.diagnostics] };
}

/**
 * Read, decode and compile one spec file to IR (no checks), with the registry
 * for its directory: the pipeline's front-end passes.
 * `source` is the decoded text (for rendering carets), null if unreadable.
 */
export async function loadSpecFile(path: string): Promise<{ ir: ProtocolIR | null; diagnostics: Diagnostic[]; source: string | null }> {
  const [{ compile }, { frontEndPasses }] = await Promise.all([import("./pipeline/compile.js"), import("./pipeline/passes.js")]);
  const c = await compile(path, {}, frontEndPasses);
  return { ir: c.ir, diagnostics: c.diagnostics, source: c.source };
}
