/**
 * The block library as the emitters see it (library-model.ts), loaded from
 * the artifact the build writes (compiler/dist/block-library.json, by
 * library-artifact.ts) when that artifact was made from exactly the block
 * files on disk, and analyzed afresh with ts-morph otherwise
 * (library-analyze.ts). The check is a hash of every file's path and text,
 * so an edited block file is never served from a stale artifact: it only
 * costs the analysis.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { CodegenError } from "./code.js";
import { analyzeLibrary } from "./library-analyze.js";
import type { BlockModel, FileModel, FnModel, HookSpec, KernelModel, LibraryModel } from "./library-model.js";

export type { BlockModel, FieldSpec, FileModel, FnModel, HookSpec, KernelModel, LibraryModel, RNode } from "./library-model.js";
export { EITHER_RETURN, OPTIONAL_PROTOCOL_METHODS, PROTOCOL_METHODS, RUNTIME_LIB_SPECIFIER, RUNTIME_SPECIFIERS } from "./library-model.js";

/** A block file, as selected: its model (fields, init, hooks). */
export type BlockFile = BlockModel;

export interface Library {
  readonly dir: string;
  /** Where the model came from: the build's artifact, or an analysis of the files now (ts-morph). */
  readonly origin: "artifact" | "analysis";
  readonly hooks: readonly HookSpec[];
  /** Names each `interface Hooks` method references (its event type). */
  readonly hookRefs: Readonly<Record<string, readonly string[]>>;
  readonly kernel: KernelModel;
  /** kernel.ts's own Fields and init (the host), when it declares them: emitted before every block's. */
  readonly kernelState: BlockModel | undefined;
  /** Every .ts file of the library, by relative path (for dependency closure and rendering). */
  readonly files: ReadonlyMap<string, FileModel>;
  block(path: string): BlockFile;
}

/** The artifact the build writes next to the compiled compiler. */
export const LIBRARY_ARTIFACT = fileURLToPath(new URL("../../dist/block-library.json", import.meta.url));

/** The artifact's format: bump when library-model.ts changes shape or what the analysis puts in it. */
export const ARTIFACT_VERSION = 5;

export interface LibraryArtifact {
  readonly version: number;
  /** libraryHash of the files it was made from. */
  readonly hash: string;
  readonly model: LibraryModel;
}

/** The library's `.ts` files (not `.d.ts`, not tests), by `/`-separated relative path, in sorted order. */
export function readLibraryFiles(dir: string): Map<string, string> {
  const paths: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d).sort()) {
      const full = join(d, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith(".ts") && !entry.endsWith(".d.ts") && !entry.endsWith(".test.ts")) paths.push(relative(dir, full).split(sep).join("/"));
    }
  };
  walk(dir);
  return new Map(paths.map((p) => [p, readFileSync(join(dir, p), "utf8")]));
}

/** What an artifact must have been made from: every file's path and text. */
export function libraryHash(files: ReadonlyMap<string, string>): string {
  const h = createHash("sha256");
  h.update(`egida-block-library ${ARTIFACT_VERSION}\0`);
  for (const [p, text] of files) h.update(`${p}\0${text}\0`);
  return h.digest("hex");
}

/** The artifact, if present and made from `hash`. */
function artifactFor(hash: string): LibraryModel | undefined {
  if (!existsSync(LIBRARY_ARTIFACT)) return undefined;
  try {
    const a = JSON.parse(readFileSync(LIBRARY_ARTIFACT, "utf8")) as LibraryArtifact;
    return a.version === ARTIFACT_VERSION && a.hash === hash ? a.model : undefined;
  } catch {
    return undefined; // unreadable or half-written: analyze instead
  }
}

const cache = new Map<string, Library>();

/** Load (and memoize per directory and file contents) the block library under `dir`. */
export function loadLibrary(dir: string): Library {
  const files = readLibraryFiles(dir);
  const hash = libraryHash(files);
  const key = `${dir}\0${hash}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const artifact = artifactFor(hash);
  const lib = artifact ? libraryOf(dir, artifact, "artifact") : libraryOf(dir, analyzeLibrary(dir, files), "analysis");
  cache.set(key, lib);
  return lib;
}

function libraryOf(dir: string, model: LibraryModel, origin: Library["origin"]): Library {
  return {
    dir,
    origin,
    hooks: model.hooks,
    hookRefs: model.hookRefs,
    kernel: model.kernel,
    kernelState: model.kernelState,
    files: new Map(Object.entries(model.files)),
    block(path: string): BlockFile {
      const b = model.blocks[path];
      if (b === undefined) throw new CodegenError(`no block file ${path} in ${dir}`);
      if ("error" in b) throw new CodegenError(b.error);
      return b;
    },
  };
}

/** The text a function's render tree points into. */
export function fileText(lib: Library, path: string): string {
  const f = lib.files.get(path);
  if (!f) throw new CodegenError(`no library file ${path} in ${lib.dir}`);
  return f.text;
}
