/** facts: what the IR implies (who logs what where, synchronously or not: passes/check-facts.ts), shared by the checker, the classifier and explain. */
import { deriveFacts } from "../passes/check-facts.js";
import type { Pass } from "./compilation.js";

export const factsPass: Pass = {
  name: "facts",
  applies: (c) => c.ir !== null,
  run(c) {
    c.facts = deriveFacts(c.ir!, c.registry!);
  },
};
