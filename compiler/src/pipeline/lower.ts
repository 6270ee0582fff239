/** lower: syntax tree → IR, resolving every value against the registry; or JSON IR → IR (ir/from-json.ts). */
import { irFromJson } from "../ir/from-json.js";
import { lower } from "../passes/lower.js";
import { isJsonInput, type Pass } from "./compilation.js";

export const lowerPass: Pass = {
  name: "lower",
  applies: (c) => c.registry !== null && (c.ast !== null || (c.source !== null && isJsonInput(c))),
  run(c) {
    const result = c.ast !== null ? lower(c.ast, c.file, c.registry!) : irFromJson(c.source!, c.file, c.registry!);
    c.ir = result.ir;
    c.diagnostics.push(...result.diagnostics);
  },
};
