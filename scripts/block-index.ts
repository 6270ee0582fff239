// `npm run blocks:index`: write compiler/src/blocks/index.ts and block-manifests.ts from the block files (compiler/src/codegen/block-index.ts).
import { readFileSync, writeFileSync } from "node:fs";
import { BLOCK_INDEX, BLOCK_MANIFESTS_FILE, blockFiles, renderBlockIndex, renderBlockManifests } from "../compiler/src/codegen/block-index.js";

const files = blockFiles();
for (const [path, text] of [[BLOCK_INDEX, renderBlockIndex(files)], [BLOCK_MANIFESTS_FILE, await renderBlockManifests(files)]] as const) {
  const current = readFileSync(path, { encoding: "utf8", flag: "a+" }) === text;
  if (!current) writeFileSync(path, text);
  console.log(`${path}: ${files.length} blocks (${current ? "current" : "rewritten"})`);
}
