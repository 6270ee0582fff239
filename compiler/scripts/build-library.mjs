// Build step (after `tsc -b`): write dist/block-library.json, the analyzed
// block library a compile loads instead of parsing src/blocks with ts-morph
// (src/codegen/library-artifact.ts).
import { buildArtifact, writeArtifact } from "../dist/codegen/library-artifact.js";
import { LIBRARY_ARTIFACT } from "../dist/codegen/library.js";

const artifact = buildArtifact();
writeArtifact(artifact);
console.log(`${LIBRARY_ARTIFACT}: ${Object.keys(artifact.model.files).length} files analyzed`);
