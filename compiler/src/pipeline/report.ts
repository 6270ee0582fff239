/**
 * report: the checker's findings in source order (errors first at one place),
 * after the front end's diagnostics. IR printed by `check --json` keeps the
 * spans of the spec it came from; in the JSON file they would put carets in
 * the wrong place, so findings on JSON input point at the JSON node instead.
 */
import { locateJsonPath } from "../config/json-locate.js";
import type { Diagnostic } from "../diagnostics/types.js";
import { sortDiagnostics } from "../passes/check.js";
import { isJsonInput, type Compilation, type Pass } from "./compilation.js";

export const reportPass: Pass = {
  name: "report",
  applies: (c) => c.findings.length > 0,
  run(c) {
    const sorted = sortDiagnostics(c.findings);
    c.diagnostics.push(...(isJsonInput(c) ? sorted.map((d) => relocateInJson(d, c)) : sorted));
    c.findings.length = 0;
  },
};

function relocateInJson(d: Diagnostic, c: Compilation): Diagnostic {
  const { loc: _spanInSpec, ...rest } = d;
  if (c.source === null || d.path === undefined) return rest;
  const loc = locateJsonPath(c.source, d.path);
  return loc ? { ...rest, loc } : rest;
}
