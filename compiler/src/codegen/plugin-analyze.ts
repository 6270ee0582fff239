/**
 * Plugin block files (BlockDef `block`): analyzed at compile time the way
 * the build analyzes the built-in library (library-analyze.ts), then merged
 * into the library for this compilation. Only the spec's plugin values with
 * a block file are read, so ts-morph loads only for them.
 *
 * A plugin block is one file. Its imports come from `egida-gen/blocks`
 * (blocks/api.ts), `@egida/runtime-core` or `node:` built-ins; an import from
 * `egida-gen/blocks` is rewritten to the library file that declares the name,
 * so the emitters' dependency closure resolves it as a built-in block's. Its
 * manifest is read syntactically (plain literals, blocks/manifest.ts) and
 * checked: it implements the plugin's value, and its order names blocks
 * and chains that exist. Every violation is a PluginBlockError naming
 * `file:line:column`.
 */
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import type { Node as TsNode, SourceFile } from "ts-morph";
import type { BlockManifest } from "../blocks/manifest.js";
import type { ParamValue } from "../blocks/params.js";
import { pluginBlockPath, type PluginBlock } from "../blocks/plugin-blocks.js";
import type { BlockDef } from "../registry/types.js";
import { CodegenError } from "./code.js";
import { BLOCK_API_SPECIFIER, fileModel, morph, readBlock } from "./library-analyze.js";
import type { BlockFile, Library } from "./library.js";
import type { BlockModel, FileModel } from "./library-model.js";

/** A contract violation in a plugin's block file: `where` is `file:line:column`. */
export class PluginBlockError extends Error {
  override readonly name = "PluginBlockError";
  constructor(
    readonly where: string,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export interface AnalyzedPlugins {
  readonly blocks: readonly PluginBlock[];
  readonly files: Readonly<Record<string, FileModel>>;
  readonly models: Readonly<Record<string, BlockModel>>;
}

const API_FILE = "api.ts";
const CONTRACT = "write the block as CONTRIBUTING.md \"Adding a block\" says (docs/plugins.md, \"A plugin block\")";

/** Analyze the plugin block files of `defs` against `lib` (the built-in library) and its manifests. */
export function analyzePluginBlocks(lib: Library, defs: readonly BlockDef[], manifests: Readonly<Record<string, BlockManifest>>): AnalyzedPlugins {
  const { Project } = morph();
  const project = new Project({ useInMemoryFileSystem: true, skipLoadingLibFiles: true, compilerOptions: { allowJs: false } });
  const api = lib.files.get(API_FILE);
  if (api === undefined) throw new CodegenError(`block library ${lib.dir} has no ${API_FILE} (the public block API)`);
  const paths = new Map(defs.map((d) => [d, pluginBlockPath(d)!]));
  const known = new Set([...Object.keys(manifests), ...paths.values()]);
  const chains = new Set([...lib.hooks.map((h) => h.name), "init"]);
  const blocks: PluginBlock[] = [];
  const files: Record<string, FileModel> = {};
  const models: Record<string, BlockModel> = {};
  for (const [def, path] of paths) {
    if (lib.files.has(path)) throw new PluginBlockError(def.blockFile!, `block file ${path} clashes with a built-in library file`, "rename the plugin's block file");
    const sf = project.createSourceFile(def.blockFile!, readFileSync(def.blockFile!, "utf8"));
    checkPluginImports(sf, api);
    let model: BlockModel;
    try {
      model = readBlock(sf, path, lib.hooks);
    } catch (e: unknown) {
      if (!(e instanceof CodegenError)) throw e;
      const m = /^block library contract: (\S+:\d+:\d+): (.*)$/s.exec(e.message);
      throw new PluginBlockError(m?.[1] ?? def.blockFile!, m?.[2] ?? e.message, CONTRACT);
    }
    checkFieldNames(sf, model, lib);
    const manifest = readManifest(sf, def, known, chains);
    const fm = fileModel(sf, path);
    files[path] = { ...fm, imports: fm.imports.map((i) => (i.module === BLOCK_API_SPECIFIER ? mapApiImport(i, api, path) : i)) };
    models[path] = model;
    const params: Record<string, ParamValue> = {};
    for (const [k, p] of Object.entries(def.params ?? {})) if (p.default !== undefined) params[k] = p.default;
    for (const k of Object.keys(manifest.params)) {
      if (params[k] === undefined) throw new PluginBlockError(where(sf.getVariableDeclarationOrThrow("manifest")), `the manifest reads parameter "${k}", which the plugin's BlockDef gives no default`, `add params: { "${k}": { type, default, description } } to the BlockDef of \`${def.id}\``);
    }
    blocks.push({ variable: def.variable, id: def.id, file: path, manifest, params });
  }
  return { blocks, files, models };
}

/** The library with the plugin blocks merged in (for this compilation only). */
export function withPluginBlocks(lib: Library, a: AnalyzedPlugins): Library {
  const files = new Map(lib.files);
  for (const [p, f] of Object.entries(a.files)) files.set(p, f);
  return {
    ...lib,
    files,
    block(path: string): BlockFile {
      return a.models[path] ?? lib.block(path);
    },
  };
}

/** Every selected block's fields become fields of one class: a plugin's must not reuse a built-in block's name. */
function checkFieldNames(sf: SourceFile, model: BlockModel, lib: Library): void {
  const builtin = new Map<string, string>();
  for (const f of lib.kernelState?.fields ?? []) builtin.set(f.name, lib.kernelState!.path);
  for (const p of lib.files.keys()) {
    let b: BlockModel;
    try {
      b = lib.block(p);
    } catch {
      continue; // not a block file
    }
    for (const f of b.fields) if (!builtin.has(f.name)) builtin.set(f.name, p);
  }
  for (const f of model.fields) {
    const owner = builtin.get(f.name);
    if (owner === undefined) continue;
    const node = sf.getInterface("Fields")?.getProperty(f.name) ?? sf;
    throw new PluginBlockError(where(node), `field ${f.name} is already a field of ${owner}`, "name the block's fields for the plugin (they share one class with every built-in block's)");
  }
}

function where(node: TsNode): string {
  const sf = node.getSourceFile();
  const { line, column } = sf.getLineAndColumnAtPos(node.getStart());
  return `${sf.getFilePath()}:${line}:${column}`;
}

/** One file: no relative imports; every name from egida-gen/blocks must be in the API. */
function checkPluginImports(sf: SourceFile, api: FileModel): void {
  for (const imp of sf.getImportDeclarations()) {
    const spec = imp.getModuleSpecifierValue();
    if (spec.startsWith(".")) {
      throw new PluginBlockError(where(imp), `a plugin block is one file: import ${JSON.stringify(spec)} is not spliced`, `import types from "${BLOCK_API_SPECIFIER}", the runtime from "@egida/runtime-core", or put the helper in the block file`);
    }
    if (spec !== BLOCK_API_SPECIFIER) continue;
    for (const n of imp.getNamedImports()) {
      if (!api.imports.some((i) => i.local === n.getName())) {
        throw new PluginBlockError(where(n), `${n.getName()} is not part of ${BLOCK_API_SPECIFIER}`, `import one of ${api.imports.map((i) => i.local).join(", ")}`);
      }
    }
  }
}

/** `import { Kernel } from "egida-gen/blocks"` in `path` → the library file that declares Kernel, relative to `path`. */
function mapApiImport(i: FileModel["imports"][number], api: FileModel, path: string): FileModel["imports"][number] {
  const target = api.imports.find((a) => a.local === i.original)!;
  const targetPath = posix.normalize(target.module.replace(/^\.\//, ""));
  let rel = posix.relative(posix.dirname(path), targetPath);
  if (!rel.startsWith(".")) rel = `./${rel}`;
  return { ...i, original: target.original, module: rel };
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** A plain literal's value (strings, numbers, booleans, arrays, objects), or a located error. */
function literal(node: TsNode): Json {
  const { Node, SyntaxKind } = morph();
  if (Node.isStringLiteral(node) || Node.isNoSubstitutionTemplateLiteral(node)) return node.getLiteralValue();
  if (Node.isNumericLiteral(node)) return node.getLiteralValue();
  if (node.getKind() === SyntaxKind.TrueKeyword) return true;
  if (node.getKind() === SyntaxKind.FalseKeyword) return false;
  if (Node.isArrayLiteralExpression(node)) return node.getElements().map(literal);
  if (Node.isObjectLiteralExpression(node)) {
    const out: Record<string, Json> = {};
    for (const p of node.getProperties()) {
      if (!Node.isPropertyAssignment(p)) throw new PluginBlockError(where(p), "the manifest is plain literals only (blocks/manifest.ts)", CONTRACT);
      out[p.getNameNode().getText().replace(/^["']|["']$/g, "")] = literal(p.getInitializerOrThrow());
    }
    return out;
  }
  if (Node.isAsExpression(node) || Node.isSatisfiesExpression(node) || Node.isParenthesizedExpression(node)) return literal(node.getExpression());
  throw new PluginBlockError(where(node), "the manifest is plain literals only (blocks/manifest.ts)", CONTRACT);
}

/** The string literal node holding `text` in the manifest (for a located error). */
function nodeOf(root: TsNode, text: string): TsNode {
  const { Node } = morph();
  return root.getDescendants().find((d) => Node.isStringLiteral(d) && d.getLiteralValue() === text) ?? root;
}

function readManifest(sf: SourceFile, def: BlockDef, known: ReadonlySet<string>, chains: ReadonlySet<string>): BlockManifest {
  const decl = sf.getVariableDeclaration("manifest");
  if (decl === undefined || !decl.isExported()) {
    throw new PluginBlockError(`${sf.getFilePath()}:1:1`, "a plugin block ends with `export const manifest: BlockManifest = { ... }`", CONTRACT);
  }
  const init = decl.getInitializerOrThrow();
  const m = literal(init) as unknown as BlockManifest;
  const implementsIt = Array.isArray(m.implements) && m.implements.some((i) => "variable" in i && i.variable === def.variable && i.value === def.id);
  if (!implementsIt) {
    throw new PluginBlockError(where(init), `the manifest does not implement ${def.variable} \`${def.id}\`, the value whose BlockDef names this file`, `add { variable: "${def.variable}", value: "${def.id}" } to manifest.implements`);
  }
  if (typeof m.params !== "object" || m.params === null || typeof m.order !== "object" || m.order === null) {
    throw new PluginBlockError(where(init), "the manifest needs purpose, implements, params, order and owns (blocks/manifest.ts)", CONTRACT);
  }
  for (const [chain, c] of [...Object.entries(m.order), ...(m.place ? [["place", m.place] as const] : [])]) {
    if (chain !== "place" && !chains.has(chain)) throw new PluginBlockError(where(nodeOf(init, chain)), `manifest.order names chain ${chain}, which is not a hook of egida-gen/blocks nor init`, `use one of ${[...chains].join(", ")}`);
    for (const name of [...(c?.after ?? []), ...(c?.before ?? [])]) {
      if (!known.has(name)) {
        const n = init.getDescendants().find((d) => d.getText() === JSON.stringify(name)) ?? init;
        throw new PluginBlockError(where(n), `manifest.order.${chain} names ${name}, which is not a block`, "name built-in blocks by their path under compiler/src/blocks, e.g. \"core/output-emit.ts\"");
      }
    }
  }
  // What it requires must be blocks too: selection checks that they are selected with it (blocks/requires.ts).
  if (m.requires !== undefined && (!Array.isArray(m.requires) || m.requires.some((r) => typeof r !== "string"))) {
    throw new PluginBlockError(where(init), "manifest.requires is a list of block paths", "e.g. requires: [\"log/event-log.ts\"]");
  }
  for (const name of m.requires ?? []) {
    if (!known.has(name)) {
      const n = init.getDescendants().find((d) => d.getText() === JSON.stringify(name)) ?? init;
      throw new PluginBlockError(where(n), `manifest.requires names ${name}, which is not a block`, "name built-in blocks by their path under compiler/src/blocks, e.g. \"log/event-log.ts\"");
    }
  }
  return m;
}
