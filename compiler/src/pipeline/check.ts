/** check: the semantic check groups (passes/check.ts); their findings wait in `findings` for the report pass. */
import { runCheckGroups } from "../passes/check.js";
import type { Pass } from "./compilation.js";

export const checkPass: Pass = {
  name: "check",
  applies: (c) => c.facts !== null && c.classification !== null,
  run(c) {
    runCheckGroups(c.facts!, c.classification!, c.registry!, c.file, c.findings);
  },
};
