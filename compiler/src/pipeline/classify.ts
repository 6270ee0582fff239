/** classify: the protocol's family and guarantees (passes/classify.ts), from the facts. */
import { classifyFacts } from "../passes/classify.js";
import type { Pass } from "./compilation.js";

export const classifyPass: Pass = {
  name: "classify",
  applies: (c) => c.facts !== null,
  run(c) {
    c.classification = classifyFacts(c.facts!);
  },
};
