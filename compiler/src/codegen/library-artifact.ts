/**
 * Build step: analyze the built-in block library once and write
 * compiler/dist/block-library.json (library.ts LIBRARY_ARTIFACT), so a
 * compile neither loads ts-morph nor re-parses the block files. Run by the
 * workspace build after `tsc -b`:
 *
 *   node compiler/scripts/build-library.mjs
 *
 * compiler/test/library-artifact.test.ts fails when the artifact differs from
 * a fresh analysis of the sources.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { analyzeLibrary } from "./library-analyze.js";
import { ARTIFACT_VERSION, LIBRARY_ARTIFACT, libraryHash, readLibraryFiles, type LibraryArtifact } from "./library.js";
import { BLOCKS_DIR } from "./pipeline.js";

/** The artifact for the library under `dir`, as the build writes it. */
export function buildArtifact(dir: string = BLOCKS_DIR): LibraryArtifact {
  const files = readLibraryFiles(dir);
  return { version: ARTIFACT_VERSION, hash: libraryHash(files), model: analyzeLibrary(dir, files) };
}

/** Write the artifact atomically (a concurrent compile reads the old one or the new one, never half). */
export function writeArtifact(artifact: LibraryArtifact, path: string = LIBRARY_ARTIFACT): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(artifact));
  renameSync(tmp, path);
}
