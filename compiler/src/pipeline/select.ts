/**
 * select: the block files that implement the protocol, in chain order
 * (blocks/select.ts), run once per compile. It runs only on a spec with no
 * error: selection assumes a protocol the checker accepts, and a refusal on
 * top of a real mistake would be noise. A refusal is kept for the
 * check-generate pass (a diagnostic) and the generate pass (which stops).
 */
import { selectBlocks, UnsupportedProtocolError } from "../blocks/select.js";
import { hasErrors, type Pass } from "./compilation.js";

export const selectPass: Pass = {
  name: "select",
  applies: (c) => c.options.generator !== false && c.classification !== null && !hasErrors(c),
  run(c) {
    try {
      c.selection = selectBlocks({ ir: c.ir!, classification: c.classification! }, c.registry ?? undefined);
    } catch (e: unknown) {
      if (!(e instanceof UnsupportedProtocolError)) throw e; // a bug in selection, not the user's mistake
      c.refusal = e;
    }
  },
};
