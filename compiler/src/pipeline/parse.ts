/** parse: spec text → syntax tree (the Peggy grammar). IR read from JSON has no syntax tree and skips it. */
import { parseText } from "../parse/parse.js";
import { isJsonInput, type Pass } from "./compilation.js";

export const parsePass: Pass = {
  name: "parse",
  applies: (c) => c.source !== null && !isJsonInput(c),
  run(c) {
    const parsed = parseText(c.source!, c.file);
    c.ast = parsed.ast;
    c.diagnostics.push(...parsed.diagnostics);
  },
};
