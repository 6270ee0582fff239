// `npm run blocks:index`: write compiler/src/blocks/index.ts from the block files (compiler/src/codegen/block-index.ts).
import { readFileSync, writeFileSync } from "node:fs";
import { BLOCK_INDEX, blockFiles, renderBlockIndex } from "../compiler/src/codegen/block-index.js";

const text = renderBlockIndex();
if (readFileSync(BLOCK_INDEX, "utf8") !== text) {
  writeFileSync(BLOCK_INDEX, text);
  console.log(`${BLOCK_INDEX}: ${blockFiles().length} blocks (rewritten)`);
} else console.log(`${BLOCK_INDEX}: ${blockFiles().length} blocks (current)`);
