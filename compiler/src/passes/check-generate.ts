/**
 * Can the generator build it? Selection (blocks/select.ts) runs once per
 * compile, as the pipeline's select pass; its refusal comes here, so
 * `egida-gen check` and `egida-gen compile` agree from one source of truth:
 * every construct selection refuses
 * (UnsupportedProtocolError) is an error diagnostic at the construct's place,
 * with the refusal's code and its hint. A spec that passes the checker
 * therefore generates, with both back ends (compiler/test/codegen-property.test.ts).
 *
 * Runs last, and only on a spec with no other error: selection assumes a
 * protocol the other checks accept, and a refusal on top of a real mistake
 * would only be noise.
 *
 * Plugin values (egida.config.json) other than storage media are the
 * exception: the checker accepts them (their runtime bindings are the
 * plugin's), but the built-in block library cannot generate a protocol that
 * names one. A refusal then is a warning, so `check` still accepts the spec
 * and says `compile` will not. A plugin storage medium is generated like a
 * built-in one (selection judges it by its traits; the protocol imports its
 * runtime store), so a refusal about it is an error like any other.
 */
import { pluginValueRefs } from "../blocks/plugin-values.js";
import { selectBlocks, UnsupportedProtocolError, refusalMessage } from "../blocks/select.js";
import type { Diagnostic } from "../diagnostics/types.js";
import type { Classification, Located, ProtocolIR, SourceSpan } from "../ir/types.js";
import type { Registry } from "../registry/types.js";
import { createContext } from "./check-context.js";
import type { ProtocolFacts } from "./check-facts.js";

/** Shown when a refusal carries no hint of its own (the property test fails on those). */
export const FALLBACK_HINT = "see the table of constructs not supported yet in docs/protocols.md (\"Known gaps\")";

export function checkGenerate(facts: ProtocolFacts, registry: Registry, file: string, cls: Classification, e: UnsupportedProtocolError, out: Diagnostic[]): void {
  const ctx = createContext(facts, registry, file, out);
  const { ir } = facts;
  const plugin = pluginValues(ir, registry);
  const at = owner(ir, e.loc) ?? ownerWithoutSpans(ir, cls, registry) ?? ir;
  if (plugin.length === 0) {
    ctx.report({ severity: "error", code: e.code, message: refusalMessage(e.construct, e.code), at, hint: e.hint ?? FALLBACK_HINT });
  } else {
    ctx.report({
      severity: "warning",
      code: "W-plugin-not-generated",
      message: `${refusalMessage(e.construct, e.code)}: \`egida-gen compile\` will refuse this spec (the built-in blocks do not generate plugin values: ${plugin.map((v) => `\`${v}\``).join(", ")})`,
      at,
      hint: e.hint ?? FALLBACK_HINT,
    });
  }
}

/**
 * A refusal as a diagnostic, for callers that run selection themselves (the
 * compile command and the bundler plugin, on specs `check` only warned about).
 */
export function refusalDiagnostic(e: UnsupportedProtocolError, file: string): Diagnostic {
  return { severity: "error", code: e.code, message: refusalMessage(e.construct, e.code), file, ...(e.loc ? { loc: e.loc } : {}), hint: e.hint ?? FALLBACK_HINT };
}

/**
 * The IR node a refusal's span belongs to (selection passes `node.loc`), so
 * the diagnostic also gets the node's JSON pointer.
 */
function owner(ir: ProtocolIR, loc: SourceSpan | undefined): Located | undefined {
  if (loc === undefined) return undefined;
  let found: Located | undefined;
  const walk = (v: unknown): void => {
    if (found !== undefined || v === null || typeof v !== "object") return;
    if ((v as Located).loc === loc) {
      found = v as Located;
      return;
    }
    for (const [k, child] of Object.entries(v)) if (k !== "loc") walk(child);
  };
  walk(ir);
  return found ?? { loc };
}

/**
 * IR read from JSON may have no spans at all: on that refusal path only, run selection again on a copy
 * in which every node has a span of its own, and map the refusal's span back
 * to the node (its JSON pointer is where `check` points in the JSON file).
 */
function ownerWithoutSpans(ir: ProtocolIR, cls: Classification, registry: Registry): Located | undefined {
  const nodes = new Map<SourceSpan, Located>();
  let n = 0;
  const copy = (v: unknown, top: boolean): unknown => {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map((x) => copy(x, false));
    const out: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(v)) if (k !== "loc") out[k] = copy(child, false);
    if (!top) {
      n++;
      const span: SourceSpan = { line: 0, column: 0, offset: -n, endOffset: -n };
      nodes.set(span, v as Located);
      out["loc"] = span;
    }
    return out;
  };
  try {
    selectBlocks({ ir: copy(ir, true) as ProtocolIR, classification: cls }, registry);
  } catch (e: unknown) {
    if (e instanceof UnsupportedProtocolError && e.loc !== undefined) return nodes.get(e.loc);
  }
  return undefined;
}

/**
 * Ids of the spec's values that come from plugins rather than egida-gen.
 * Plugin storage media only with `media` (they are generated; `init`, which
 * copies the spec without its config, still needs to know).
 */
export function pluginValues(ir: ProtocolIR, registry: Registry, media = false): string[] {
  return [...new Set(pluginValueRefs(ir, registry, media).map(([, ref]) => ref.id))];
}
