/** check-generate: selection's refusal as a located finding (passes/check-generate.ts), so `check` and `compile` agree. */
import { checkGenerate } from "../passes/check-generate.js";
import type { Pass } from "./compilation.js";

export const checkGeneratePass: Pass = {
  name: "check-generate",
  applies: (c) => c.refusal !== null,
  run(c) {
    checkGenerate(c.facts!, c.registry!, c.file, c.classification!, c.refusal!, c.findings);
  },
};
