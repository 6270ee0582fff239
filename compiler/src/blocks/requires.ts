/**
 * What a block cannot run without (`requires` in its manifest,
 * blocks/manifest.ts): every selected block's required blocks are selected
 * too. The rule table (blocks/family-rules.ts) decides the selection; this
 * check makes a row that forgets a block's dependency an error at selection
 * instead of a generated protocol that reads fields nobody initializes.
 * compiler/test/block-requires.test.ts runs it over every spec in specs/ and
 * the sampled spec space.
 */
import { BLOCK_MANIFESTS } from "./block-manifests.js";
import type { BlockManifest } from "./manifest.js";
import type { BlockInstance } from "./select-common.js";

/** A selection that leaves out a block another selected block requires: a bug of the rule table or of a manifest. */
export class BlockRequiresError extends Error {
  override readonly name = "BlockRequiresError";
}

/** Throws BlockRequiresError naming the first selected block whose `requires` names a block not selected. */
export function checkRequires(blocks: readonly BlockInstance[], manifests: Readonly<Record<string, BlockManifest>> = BLOCK_MANIFESTS): void {
  const selected = new Set(blocks.map((b) => b.file));
  for (const b of blocks) {
    for (const r of manifests[b.file]?.requires ?? []) {
      if (!selected.has(r)) {
        throw new BlockRequiresError(`internal error: block ${b.file} requires ${r}, which selection left out (blocks/family-rules.ts, or ${b.file}'s manifest \`requires\`)`);
      }
    }
  }
}
