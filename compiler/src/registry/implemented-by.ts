/**
 * The binding of a built-in value: the block files whose manifests list it
 * in `implements` (blocks/manifest.ts), from the generated block index. A
 * value no block implements is one selection refuses (docs/protocols.md,
 * "Known gaps"); compiler/test/registry-bindings.test.ts keeps the two
 * sides in step.
 */
import { BLOCK_MANIFESTS } from "../blocks/block-manifests.js";
import type { PaperModule, Variable } from "./types.js";

let byValue: Map<string, string[]> | undefined;

const key = (variable: string, value: string) => `${variable}\u0000${value}`;

/** Block files (relative to compiler/src/blocks) implementing `variable`'s value `id`, sorted. */
export function blocksImplementing(variable: Variable, id: string): readonly string[] {
  if (byValue === undefined) {
    byValue = new Map();
    for (const [file, m] of Object.entries(BLOCK_MANIFESTS)) {
      for (const i of m.implements) {
        if (!("variable" in i)) continue;
        const k = key(i.variable, i.value);
        byValue.set(k, [...(byValue.get(k) ?? []), file]);
      }
    }
    for (const files of byValue.values()) files.sort();
  }
  return byValue.get(key(variable, id)) ?? [];
}

/** Block files implementing part of a paper module, sorted. */
export function blocksOfModule(module: PaperModule): readonly string[] {
  return Object.entries(BLOCK_MANIFESTS)
    .filter(([, m]) => m.implements.some((i) => "module" in i && i.module === module))
    .map(([f]) => f)
    .sort();
}
