/** Load a spec from specs/ through the real front end (parse → lower). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "../../compiler/src/parse/parse.js";
import { lower } from "../../compiler/src/passes/lower.js";
import { builtinRegistry } from "../../compiler/src/registry/builtin-registry.js";
import type { ProtocolIR } from "../../compiler/src/ir/types.js";

export function loadSpec(file: string, overrides: Partial<ProtocolIR["options"]> = {}): ProtocolIR {
  const path = join(import.meta.dirname, "../../specs", file);
  const p = parse(readFileSync(path, "utf8"), path);
  if (p.ast === null) throw new Error(`${file}: ${p.diagnostics.map((d) => d.message).join("; ")}`);
  const { ir, diagnostics } = lower(p.ast, path, builtinRegistry());
  if (ir === null) throw new Error(`${file}: ${diagnostics.map((d) => d.message).join("; ")}`);
  const errs = diagnostics.filter((d) => d.severity === "error");
  if (errs.length > 0) throw new Error(`${file}: ${errs.map((d) => d.message).join("; ")}`);
  return { ...ir, options: { ...ir.options, ...overrides } };
}
