/**
 * The build-step plugin, written once for every bundler (unplugin):
 *
 *   import { protocol } from "./sby.egida";   // a ProtocolFactory, compiled at build time
 *
 * A `.egida` import is loaded by compiling the spec (front end, checker,
 * block selection, the inline or modular emitter) and transpiling the
 * generated TypeScript to JavaScript. The bundler resolves the file itself
 * (it is a real file); this plugin only loads it, so no virtual ids and no
 * absolute paths reach the output. Spec errors become the bundler's error,
 * located at `file:line:col`, with the rendered diagnostic and no stack.
 *
 * Entry points: `egida-gen/vite`, `egida-gen/rollup`, `egida-gen/esbuild`,
 * `egida-gen/webpack`, `egida-gen/rspack` (each the bundler's plugin
 * factory), and this module's `unplugin` for the rest (see docs/plugin.md).
 */
import { isAbsolute, relative, resolve, sep } from "node:path";
import { createUnplugin, type UnpluginBuildContext, type UnpluginContext, type UnpluginInstance, type UnpluginMessage } from "unplugin";
import type { EmitKind } from "../codegen/types.js";
import type { Diagnostic } from "../diagnostics/types.js";
import { compileSpecFile, renderPlain } from "./compile.js";

/** One pattern, or several: a RegExp is tested against the module's absolute path (`/`-separated, query removed); a string matches a path that ends with it. */
export type EgidaFilterPattern = string | RegExp | ReadonlyArray<string | RegExp>;

export interface EgidaPluginOptions {
  /** Back end: one class (`inline`, default) or one class per paper module (`modular`). */
  readonly emit?: EmitKind;
  /** Which modules are specs; default `/\.egida$/`. */
  readonly include?: EgidaFilterPattern;
  /** Modules never compiled, even when included. */
  readonly exclude?: EgidaFilterPattern;
  /**
   * Spec paths in diagnostics and in the generated header are relative to this
   * directory (so output does not depend on where the project is checked out).
   * Default: Vite's `root`, else the working directory.
   */
  readonly root?: string;
}

export const PLUGIN_NAME = "egida";

const DEFAULT_INCLUDE = /\.egida$/;

/** Path without `?query` / `#hash` (Vite adds `?import`, `?v=...`), `/`-separated. */
export function cleanId(id: string): string {
  const q = id.search(/[?#]/);
  return (q >= 0 ? id.slice(0, q) : id).split(sep).join("/");
}

function patterns(p: EgidaFilterPattern | undefined): ReadonlyArray<string | RegExp> {
  if (p === undefined) return [];
  return typeof p === "string" || p instanceof RegExp ? [p] : p;
}

function matches(path: string, p: string | RegExp): boolean {
  if (typeof p === "string") return path.endsWith(p.split(sep).join("/"));
  p.lastIndex = 0;
  return p.test(path);
}

/** The include/exclude predicate on module ids. Virtual ids (`\0...`) never match. */
export function specFilter(opts: Pick<EgidaPluginOptions, "include" | "exclude">): (id: string) => boolean {
  const include = opts.include === undefined ? [DEFAULT_INCLUDE] : patterns(opts.include);
  const exclude = patterns(opts.exclude);
  return (id) => {
    if (id.startsWith("\0")) return false;
    const path = cleanId(id);
    if (!isAbsolute(path)) return false;
    return include.some((p) => matches(path, p)) && !exclude.some((p) => matches(path, p));
  };
}

/** How a spec path is shown: relative to `root` when inside it, `/`-separated. */
function shownPath(path: string, root: string): string {
  const rel = relative(root, path);
  return (rel === "" || rel.startsWith("..") || isAbsolute(rel) ? path : rel).split(sep).join("/");
}

/** A diagnostic as a bundler message: the rendered text (with `file:line:col` first), the location, and no stack. */
function message(ds: readonly Diagnostic[], source: string | null, specFile: string, path: string): UnpluginMessage {
  const text = renderPlain(ds, source, specFile);
  const first = ds[0];
  // Bundlers take 0-based columns (Rollup's and esbuild's convention; esbuild prints column + 1).
  const loc = first?.loc && first.file === specFile ? { file: path, line: first.loc.line, column: first.loc.column - 1 } : undefined;
  // A stack would only show egida-gen's own frames; the diagnostic is the whole story. (Rollup's CLI
  // and Rolldown print a stack only when it is non-empty.)
  return { message: text, id: path, stack: "", ...(loc ? { loc } : {}) };
}

type LoadContext = UnpluginBuildContext & UnpluginContext;

/** The plugin for every bundler unplugin supports; `unplugin.vite(opts)`, `unplugin.rollup(opts)`, ... */
export const unplugin: UnpluginInstance<EgidaPluginOptions | undefined, false> = createUnplugin<EgidaPluginOptions | undefined, false>((options = {}) => {
  const include = specFilter(options);
  let root = options.root !== undefined ? resolve(options.root) : process.cwd();
  return {
    name: PLUGIN_NAME,
    enforce: "pre",
    loadInclude: include,
    async load(this: LoadContext, id: string) {
      const path = resolve(cleanId(id));
      const specFile = shownPath(path, root);
      const out = await compileSpecFile(path, { specFile, ...(options.emit !== undefined ? { emit: options.emit } : {}) });
      for (const f of out.watchFiles) this.addWatchFile(f);
      const errors = out.diagnostics.filter((d) => d.severity === "error");
      const warnings = out.diagnostics.filter((d) => d.severity === "warning");
      for (const w of warnings) this.warn(message([w], out.source, specFile, path));
      if (errors.length > 0 || out.code === null) {
        this.error(message(errors, out.source, specFile, path));
        // Rollup and Vite throw above; esbuild, webpack and Rspack collect the error and need a result to attach it to.
        return { code: "export {};\n", map: null };
      }
      return { code: out.code, map: null };
    },
    vite: {
      configResolved(config: { root: string }) {
        if (options.root === undefined) root = config.root;
      },
    },
    esbuild: {
      // The loaded module is JavaScript whatever the spec's extension.
      loader: "js",
    },
  };
});

export default unplugin;
