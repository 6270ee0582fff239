/**
 * select: the block files that implement the protocol, in chain order
 * (blocks/select.ts), run once per compile. It runs only on a spec with no
 * error: selection assumes a protocol the checker accepts, and a refusal on
 * top of a real mistake would be noise. A refusal is kept for the
 * check-generate pass (a diagnostic) and the generate pass (which stops).
 */
import { selectBlocks, UnsupportedProtocolError } from "../blocks/select.js";
import { BLOCK_MANIFESTS } from "../blocks/block-manifests.js";
import { pluginValueRefs } from "../blocks/plugin-values.js";
import type { BlockDef } from "../registry/types.js";
import { hasErrors, type Compilation, type Pass } from "./compilation.js";

export const selectPass: Pass = {
  name: "select",
  applies: (c) => c.options.generator !== false && c.classification !== null && !hasErrors(c),
  async run(c) {
    if (!(await analyzePlugins(c))) return;
    try {
      c.selection = selectBlocks({ ir: c.ir!, classification: c.classification! }, c.registry ?? undefined, c.plugins?.blocks ?? []);
    } catch (e: unknown) {
      if (!(e instanceof UnsupportedProtocolError)) throw e; // a bug in selection, not the user's mistake
      c.refusal = e;
    }
  },
};

/**
 * The spec's plugin values that ship a block file, analyzed (ts-morph loads
 * only here, only for them) into c.plugins. False after a contract error in
 * one: a located error diagnostic naming the file, line and column.
 */
async function analyzePlugins(c: Compilation): Promise<boolean> {
  const registry = c.registry;
  if (registry === null) return true;
  const defs = new Map<BlockDef, true>();
  for (const [variable, ref] of pluginValueRefs(c.ir!, registry)) {
    const def = registry.get(variable, ref.id);
    if (def?.blockFile !== undefined) defs.set(def, true);
  }
  if (defs.size === 0) return true;
  const [{ analyzePluginBlocks, PluginBlockError }, { blockLibrary }] = await Promise.all([import("../codegen/plugin-analyze.js"), import("../codegen/pipeline.js")]);
  try {
    c.plugins = analyzePluginBlocks(blockLibrary(), [...defs.keys()], BLOCK_MANIFESTS);
    return true;
  } catch (e: unknown) {
    if (!(e instanceof PluginBlockError)) throw e;
    const def = [...defs.keys()].find((d) => e.where.startsWith(d.blockFile!));
    const origin = def?.package?.name ?? def?.origin;
    c.diagnostics.push({ severity: "error", code: "E-plugin-block", message: `${origin !== undefined ? `plugin \`${origin}\`: ` : ""}${e.message}`, file: e.where, hint: e.hint });
    return false;
  }
}
