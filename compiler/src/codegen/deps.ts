/**
 * Dependency closure: the names spliced code refers to, resolved the way the
 * block files resolve them, so the generated file is self-contained:
 * - imports from `@egida/runtime-core` become one type import and one value import;
 * - imports from `@egida/runtime-core/protocol-lib` (helpers specialization
 *   does not change) stay imports: one type import and one value import;
 * - declarations from the library (event types in hooks.ts, a block's local
 *   helper) are copied, transitively, in a stable order;
 * - `K` (each block file's state type, `Kernel & Fields & ...`) and `Kernel`
 *   (hooks.ts: what every block sees of the kernel) become `type K = <the
 *   generated class>`: the class holds every selected block's fields and the
 *   hook chains, so it is each block's `K`.
 */
import { CodegenError } from "./code.js";
import { RUNTIME_LIB_SPECIFIER, RUNTIME_SPECIFIERS, type Library } from "./library.js";
import type { FileModel, StatementModel } from "./library-model.js";

/** The state types: the generated class stands for them (`type K = <class>`). */
const STATE_TYPES = new Set(["K", "Kernel"]);
/** Names with meaning to the emitter: never copied. */
const SKIP = new Set(["param", "s", "ev", "host", ...STATE_TYPES]);

export interface Closure {
  /** From the runtime (emitted from RUNTIME_IMPORT). */
  readonly typeImports: ReadonlySet<string>;
  readonly valueImports: ReadonlySet<string>;
  /** From `@egida/runtime-core/protocol-lib` (a name imported as a value anywhere is in `values` only). */
  readonly libImports: { readonly types: ReadonlySet<string>; readonly values: ReadonlySet<string> };
  /** Node built-ins (`node:v8`): specifier → value names (type-only names are omitted: built-ins used as values). */
  readonly builtinImports: ReadonlyMap<string, { readonly types: ReadonlySet<string>; readonly values: ReadonlySet<string> }>;
  /** Copied statements, in (library path, position) order, text as written. */
  readonly declarations: readonly string[];
  readonly needsK: boolean;
}

export class DependencyCollector {
  private readonly typeImports = new Set<string>();
  private readonly valueImports = new Set<string>();
  private readonly libTypes = new Set<string>();
  private readonly libValues = new Set<string>();
  private readonly builtins = new Map<string, { types: Set<string>; values: Set<string> }>();
  private readonly copied = new Map<string, { path: string; pos: number; text: string; owner: string }>();
  private needsK = false;

  constructor(
    private readonly lib: Library,
    /** Names the emitted file declares itself (class, factory): a copy with one of these names is a clash. */
    private readonly reserved: ReadonlySet<string>,
  ) {}

  /** Record every reference (`refs`, precomputed by library-analyze.ts) made by code in library file `path`. */
  add(refs: readonly string[], path: string): void {
    for (const n of refs) this.resolve(n, path);
  }

  result(): Closure {
    const decls = [...this.copied.values()].sort((a, b) => (a.path === b.path ? a.pos - b.pos : a.path < b.path ? -1 : 1));
    for (const d of decls) {
      if (this.libTypes.has(d.owner) || this.libValues.has(d.owner)) throw new CodegenError(`${d.path}: declaration ${d.owner} clashes with the import of ${d.owner} from ${RUNTIME_LIB_SPECIFIER} in generated code`);
    }
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
    const libImports = { types: new Set([...this.libTypes].filter((t) => !this.libValues.has(t))), values: this.libValues };
    return { typeImports: types, valueImports: this.valueImports, libImports, builtinImports, declarations: texts, needsK: this.needsK };
  }

  private resolve(n: string, path: string): void {
    if (STATE_TYPES.has(n)) {
      // Spliced text must say `K`: only `K` is declared in generated code (`Kernel` is named by hooks.ts's signatures).
      if (n !== "K" && path !== "hooks.ts") throw new CodegenError(`${path}: spliced code names ${n}; declare the file's state as \`type K = Kernel & ...\` and use K`);
      this.needsK = true;
    }
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
      if (imported.module === RUNTIME_LIB_SPECIFIER) {
        if (imported.original !== n) throw new CodegenError(`${path}: renamed import ${imported.original} as ${n} is not supported`);
        if (this.reserved.has(n)) throw new CodegenError(`${path}: ${n} from ${RUNTIME_LIB_SPECIFIER} clashes with a generated name`);
        (imported.typeOnly ? this.libTypes : this.libValues).add(n);
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
    const key = `${path}#${stmt.pos}`;
    if (this.copied.has(key)) return;
    if (this.reserved.has(n)) throw new CodegenError(`${path}: declaration ${n} clashes with a generated name`);
    const text = stmt.text;
    for (const other of this.copied.values()) {
      if (other.owner === n && other.text !== text) throw new CodegenError(`two library declarations named ${n} (${other.path}, ${path}) would clash in generated code`);
    }
    if (/\bparam\s*[<(]/.test(text)) throw new CodegenError(`${path}: ${n} uses param(); parameters are only substituted in hook and init bodies`);
    this.copied.set(key, { path, pos: stmt.pos, text, owner: n });
    this.add(stmt.refs, path);
  }
}

interface ImportInfo {
  readonly module: string;
  readonly original: string;
  readonly typeOnly: boolean;
}

function findImport(sf: FileModel, n: string): ImportInfo | undefined {
  const imp = sf.imports.find((i) => i.local === n);
  if (imp) return { module: imp.module, original: imp.original, typeOnly: imp.typeOnly };
  if (sf.otherImports.includes(n)) throw new CodegenError(`/blocks/${sf.path}: namespace and default imports are outside the contract`);
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

function topLevelDeclaration(sf: FileModel, n: string): StatementModel | undefined {
  return sf.statements.find((s) => s.names.includes(n));
}

/** Fields, init, hooks and kernel methods are emitted structurally, never copied. */
function isEmitterOwned(stmt: StatementModel, path: string, lib: Library): boolean {
  const names = stmt.names;
  if (names.includes("Fields") || names.includes("init") || names.includes("HostField")) return true;
  if (stmt.exportedFunction) {
    const n = names[0]!;
    if (path === lib.kernel.path) return Object.prototype.hasOwnProperty.call(lib.kernel.methods, n);
    return lib.hooks.some((h) => h.name === n);
  }
  return false;
}
