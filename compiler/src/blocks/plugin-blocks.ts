/**
 * A plugin value implemented by a block file the plugin ships (BlockDef
 * `block`), as selection sees it once `compile` has analyzed the file
 * (codegen/plugin-analyze.ts): the library path it is merged under, its
 * manifest (read syntactically, like the built-in manifests) and its
 * parameters (the BlockDef's defaults; a spec cannot set them).
 */
import type { BlockDef, Variable } from "../registry/types.js";
import type { BlockManifest } from "./manifest.js";
import type { ParamValue } from "./params.js";

export interface PluginBlock {
  readonly variable: Variable;
  /** The registry id of the value it implements. */
  readonly id: string;
  /** Its path in the merged library: `<package name>/<path in the package>`, e.g. `egida-plugin-x/blocks/x.ts`. */
  readonly file: string;
  readonly manifest: BlockManifest;
  readonly params: Readonly<Record<string, ParamValue>>;
}

/**
 * Which built-in block a plugin value of each variable replaces, per family:
 * the block the rule table (family-rules.ts) puts where the spec's value is. A variable
 * or family not listed has no such place (a plugin block there is refused).
 */
export const PLUGIN_PLACES: Partial<Record<Variable, Readonly<Record<string, string>>>> = {
  // Causal and optimistic output commit co-ordinate with the stability and orphan blocks of
  // their family (causal/commit.ts, optimistic/commit.ts); only the independent flush is a
  // self-contained block a plugin may replace.
  "output-commit-proto": { pessimistic: "commit/independent.ts" },
};

/** The library path of a plugin's block file (BlockDef `block`): `<package>/<path in the package>`. */
export function pluginBlockPath(def: BlockDef): string | undefined {
  if (def.block === undefined) return undefined;
  return `${def.package?.name ?? "plugin"}/${def.block.replace(/^\.\//, "")}`;
}
