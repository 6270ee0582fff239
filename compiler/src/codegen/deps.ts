/**
 * Dependency closure: the names spliced code refers to, resolved the way the
 * block files resolve them, so the generated file is self-contained:
 * - imports from `@egida/runtime-core` become one type import and one value import;
 * - declarations from the library (event types in hooks.ts, a block's local
 *   helper) are copied, transitively, in a stable order;
 * - `K` (the kernel state type) becomes `type K = <the generated class>`.
 */
import { Node, type SourceFile, type Statement } from "ts-morph";
import { CodegenError } from "./code.js";
import { RUNTIME_SPECIFIERS, type Library } from "./library.js";
import { referencedNames } from "./render.js";

/** Names with meaning to the emitter: never copied. */
const SKIP = new Set(["param", "s", "ev", "host", "K"]);

export interface Closure {
  /** From the runtime (emitted from RUNTIME_IMPORT). */
  readonly typeImports: ReadonlySet<string>;
  readonly valueImports: ReadonlySet<string>;
  /** Node built-ins (`node:v8`): specifier → value names (type-only names are omitted: built-ins used as values). */
  readonly builtinImports: ReadonlyMap<string, { readonly types: ReadonlySet<string>; readonly values: ReadonlySet<string> }>;
  /** Copied statements, in (library path, position) order, text as written. */
  readonly declarations: readonly string[];
  readonly needsK: boolean;
}

export class DependencyCollector {
  private readonly typeImports = new Set<string>();
  private readonly valueImports = new Set<string>();
  private readonly builtins = new Map<string, { types: Set<string>; values: Set<string> }>();
  private readonly copied = new Map<string, { path: string; pos: number; text: string; owner: string }>();
  private needsK = false;

  constructor(
    private readonly lib: Library,
    /** Names the emitted file declares itself (class, factory): a copy with one of these names is a clash. */
    private readonly reserved: ReadonlySet<string>,
  ) {}

  /** Record every reference made by `node`, which lives in library file `path`. */
  add(node: Node, path: string): void {
    for (const n of referencedNames(node)) this.resolve(n, path);
  }

  result(): Closure {
    const decls = [...this.copied.values()].sort((a, b) => (a.path === b.path ? a.pos - b.pos : a.path < b.path ? -1 : 1));
    const seen = new Set<string>();
    const texts: string[] = [];
    for (const d of decls) {
      if (seen.has(d.text)) continue;
      seen.add(d.text);
      texts.push(d.text);
    }
    const types = new Set([...this.typeImports].filter((t) => !this.valueImports.has(t)));
    const builtinImports = new Map(
      [...this.builtins]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, { types: new Set([...v.types].filter((t) => !v.values.has(t))), values: v.values }] as const),
    );
    return { typeImports: types, valueImports: this.valueImports, builtinImports, declarations: texts, needsK: this.needsK };
  }

  private resolve(n: string, path: string): void {
    if (n === "K") this.needsK = true;
    if (SKIP.has(n)) return;
    const sf = this.lib.files.get(path);
    if (!sf) return;
    const imported = findImport(sf, n);
    if (imported) {
      if (RUNTIME_SPECIFIERS.has(imported.module)) {
        if (imported.original !== n) throw new CodegenError(`${path}: renamed runtime import ${imported.original} as ${n} is not supported`);
        (imported.typeOnly ? this.typeImports : this.valueImports).add(n);
        return;
      }
      if (imported.module.startsWith("node:")) {
        if (imported.original !== n) throw new CodegenError(`${path}: renamed import ${imported.original} as ${n} is not supported`);
        let b = this.builtins.get(imported.module);
        if (!b) this.builtins.set(imported.module, (b = { types: new Set(), values: new Set() }));
        (imported.typeOnly ? b.types : b.values).add(n);
        return;
      }
      if (/(^|\/)params\.js$/.test(imported.module)) return;
      if (!imported.module.startsWith(".")) throw new CodegenError(`${path}: import from ${imported.module} is outside the contract`);
      if (imported.original !== n) throw new CodegenError(`${path}: ${n} is imported under an alias; spliced code must use declaration names`);
      const target = resolveRelative(path, imported.module);
      this.copyFrom(target, n, path);
      return;
    }
    this.copyFrom(path, n, undefined);
  }

  /** Copy the top-level declaration of `n` in `path`; if `from` is set it must exist. */
  private copyFrom(path: string, n: string, from: string | undefined): void {
    const sf = this.lib.files.get(path);
    if (!sf) throw new CodegenError(`${from ?? path}: cannot resolve library file ${path}`);
    const stmt = topLevelDeclaration(sf, n);
    if (!stmt) {
      if (from !== undefined) throw new CodegenError(`${from}: ${path} declares no ${n} (re-exports are not supported)`);
      return; // a global or a local of the body
    }
    if (isEmitterOwned(stmt, path, this.lib)) return;
    const key = `${path}#${stmt.getPos()}`;
    if (this.copied.has(key)) return;
    if (this.reserved.has(n)) throw new CodegenError(`${path}: declaration ${n} clashes with a generated name`);
    const text = declarationText(stmt);
    for (const other of this.copied.values()) {
      if (other.owner === n && other.text !== text) throw new CodegenError(`two library declarations named ${n} (${other.path}, ${path}) would clash in generated code`);
    }
    if (/\bparam\s*[<(]/.test(text)) throw new CodegenError(`${path}: ${n} uses param(); parameters are only substituted in hook and init bodies`);
    this.copied.set(key, { path, pos: stmt.getPos(), text, owner: n });
    this.add(stmt, path);
  }
}

interface ImportInfo {
  readonly module: string;
  readonly original: string;
  readonly typeOnly: boolean;
}

function findImport(sf: SourceFile, n: string): ImportInfo | undefined {
  for (const imp of sf.getImportDeclarations()) {
    for (const spec of imp.getNamedImports()) {
      const local = spec.getAliasNode()?.getText() ?? spec.getName();
      if (local === n) return { module: imp.getModuleSpecifierValue(), original: spec.getName(), typeOnly: imp.isTypeOnly() || spec.isTypeOnly() };
    }
    if (imp.getNamespaceImport()?.getText() === n || imp.getDefaultImport()?.getText() === n) {
      throw new CodegenError(`${sf.getFilePath()}: namespace and default imports are outside the contract`);
    }
  }
  return undefined;
}

function resolveRelative(from: string, spec: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const seg of spec.split("/")) {
    if (seg === "." || seg === "") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return parts.join("/").replace(/\.js$/, ".ts");
}

export function declaredNames(stmt: Statement): string[] {
  if (Node.isFunctionDeclaration(stmt) || Node.isClassDeclaration(stmt)) return stmt.getName() !== undefined ? [stmt.getName()!] : [];
  if (Node.isInterfaceDeclaration(stmt) || Node.isTypeAliasDeclaration(stmt) || Node.isEnumDeclaration(stmt)) return [stmt.getName()];
  if (Node.isVariableStatement(stmt)) return stmt.getDeclarations().map((d) => d.getName());
  return [];
}

function topLevelDeclaration(sf: SourceFile, n: string): Statement | undefined {
  return sf.getStatements().find((s) => declaredNames(s).includes(n));
}

/** Fields, init, hooks and kernel methods are emitted structurally, never copied. */
function isEmitterOwned(stmt: Statement, path: string, lib: Library): boolean {
  const names = declaredNames(stmt);
  if (names.includes("Fields") || names.includes("init") || names.includes("HostField")) return true;
  if (Node.isFunctionDeclaration(stmt) && stmt.isExported()) {
    const n = names[0]!;
    if (path === lib.kernel.path) return lib.kernel.methods.has(n);
    return lib.hooks.some((h) => h.name === n);
  }
  return false;
}

/** The statement with only its own doc comment (the nearest JSDoc), not a file header before it. */
function declarationText(stmt: Statement): string {
  const docs = Node.isJSDocable(stmt) ? stmt.getJsDocs() : [];
  const doc = docs[docs.length - 1];
  return doc ? `${doc.getText()}\n${stmt.getText()}` : stmt.getText();
}
