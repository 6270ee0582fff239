/**
 * The block library the emitters read, and (for tests and scripts holding a
 * bare checked IR) emitter input with its own selection. The compiler itself
 * builds emitter input in the pipeline's generate pass (pipeline/generate.ts),
 * from the select pass's result.
 */
import { fileURLToPath } from "node:url";
import { selectBlocks } from "../blocks/select.js";
import type { CheckedProtocol } from "../ir/types.js";
import { loadLibrary, type Library } from "./library.js";
import type { EmitBlock, EmitInput } from "./types.js";

/**
 * The block library's TypeScript sources. From `src/codegen` and from
 * `dist/codegen` alike this is the package's `src/blocks/`: the emitters read
 * sources, never compiled output.
 */
export const BLOCKS_DIR = fileURLToPath(new URL("../../src/blocks/", import.meta.url));

export function blockLibrary(): Library {
  return loadLibrary(BLOCKS_DIR);
}

export function emitInputFor(checked: CheckedProtocol, source: string, specFile: string): EmitInput {
  const blocks: EmitBlock[] = selectBlocks(checked).map((b) => {
    const base = { file: b.file, id: b.id, module: b.module, params: b.params };
    return b.loc === undefined ? base : { ...base, loc: b.loc };
  });
  return { checked, blocks, source, specFile };
}
