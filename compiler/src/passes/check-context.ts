/**
 * What every check group receives: the facts, the registry, and a way to
 * report. A diagnostic always names a place: the IR node's JSON pointer, and
 * its source span when the IR carries one.
 */
import type { Diagnostic, Severity } from "../diagnostics/types.js";
import type { Located, ProtocolIR } from "../ir/types.js";
import type { Registry } from "../registry/types.js";
import type { ProtocolFacts } from "./check-facts.js";

export interface Finding {
  readonly severity: Severity;
  readonly code: string;
  readonly message: string;
  /** The IR node the finding is about; its span, or else its JSON pointer, locates the diagnostic. */
  readonly at: Located | ProtocolIR;
  readonly hint?: string;
}

export interface CheckContext {
  readonly facts: ProtocolFacts;
  readonly registry: Registry;
  report(finding: Finding): void;
}

export type CheckGroup = (ctx: CheckContext) => void;

export function createContext(facts: ProtocolFacts, registry: Registry, file: string, out: Diagnostic[]): CheckContext {
  const paths = indexPaths(facts.ir);
  return {
    facts,
    registry,
    report(f) {
      const loc = "loc" in f.at ? f.at.loc : undefined;
      out.push({
        severity: f.severity,
        code: f.code,
        message: f.message,
        file,
        // Both: the span for spec text, the pointer for IR read from JSON
        // (whose spans, if any, point into the spec it was printed from).
        ...(loc ? { loc } : {}),
        path: paths.get(f.at) ?? "",
        ...(f.hint !== undefined ? { hint: f.hint } : {}),
      });
    },
  };
}

function indexPaths(root: object): Map<object, string> {
  const map = new Map<object, string>();
  const walk = (v: unknown, path: string): void => {
    if (v === null || typeof v !== "object") return;
    if (!map.has(v)) map.set(v, path);
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    for (const [k, child] of entries) {
      if (k === "loc") continue;
      walk(child, `${path}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`);
    }
  };
  walk(root, "");
  return map;
}
