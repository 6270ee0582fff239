/**
 * Analysis half of "analyze, then manipulate": read the block library with
 * ts-morph (syntax only, in memory, no type checker: the block files are
 * type-checked by the workspace build) and check the contract of
 * docs/codegen-design.md. Violations are generator bugs, reported as
 * CodegenError naming the file and line.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { Node, Project, SyntaxKind, type FunctionDeclaration, type SourceFile } from "ts-morph";
import { CodegenError, isValidName } from "./code.js";

/** The Protocol SPI methods the kernel implements (runtime-core spi.ts, `interface Protocol`). */
export const PROTOCOL_METHODS = ["start", "send", "onFrame", "read", "write", "onPeerRestart", "stats", "stop"] as const;
/**
 * Optional Protocol SPI methods: emitted when the library's entry file exports
 * them (a library written before they existed stays valid). `finish`: job
 * completion, runtime-core spi.ts.
 */
export const OPTIONAL_PROTOCOL_METHODS = ["finish"] as const;

export interface HookSpec {
  readonly name: string;
  /** Event type text, e.g. "RecvEv". */
  readonly evType: string;
  /** Return type text as declared in Hooks. */
  readonly returnType: string;
  readonly isAsync: boolean;
  /**
   * HOOKS says `async: "either"`: each block may be async or not, and a
   * non-async block may `return` a promise the rest of the chain waits for.
   * `isAsync` is then true (the chain may await); the inline back end decides
   * per protocol (codegen/inline.ts).
   */
  readonly either: boolean;
  /** Blocks may be filters (return boolean): spliced as `if (!(...)) return;` (or `return false` for a boolean chain). */
  readonly isFilter: boolean;
  /** The chain method itself returns boolean (rejection returns false, the end true). */
  readonly returnsBoolean: boolean;
}

export interface FieldSpec {
  readonly name: string;
  readonly type: string;
  readonly optional: boolean;
}

export interface BlockFile {
  /** Relative to the blocks dir, `/`-separated: "log/det-sync.ts". */
  readonly path: string;
  readonly sourceFile: SourceFile;
  readonly fields: readonly FieldSpec[];
  readonly init: FunctionDeclaration | undefined;
  /** Hook functions by hook name. */
  readonly hooks: ReadonlyMap<string, FunctionDeclaration>;
}

export interface Kernel {
  /** The file with the Protocol methods (kernel.ts or protocol.ts). */
  readonly path: string;
  readonly sourceFile: SourceFile;
  /** SPI method implementations by name. */
  readonly methods: ReadonlyMap<string, FunctionDeclaration>;
}

export interface Library {
  readonly dir: string;
  readonly project: Project;
  readonly hooks: readonly HookSpec[];
  readonly kernel: Kernel;
  /** kernel.ts's own Fields and init (the host), when it declares them: emitted before every block's. */
  readonly kernelState: BlockFile | undefined;
  /** Every .ts file of the library, by relative path (for dependency closure). */
  readonly files: ReadonlyMap<string, SourceFile>;
  block(path: string): BlockFile;
}

const KERNEL = "kernel.ts";
const HOOKS = "hooks.ts";
const PARAMS = "params.ts";
/** Where the Protocol methods may live, in search order. */
const ENTRY_FILES = [KERNEL, "protocol.ts", "entry.ts", "spi.ts"];

/** Module specifiers that mean "the runtime" in block files. */
export const RUNTIME_SPECIFIERS: ReadonlySet<string> = new Set(["@egida/runtime-core", "@egida/runtime-core/spi"]);

function walk(dir: string, base: string, out: string[]): void {
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) walk(full, base, out);
    else if (entry.endsWith(".ts") && !entry.endsWith(".d.ts") && !entry.endsWith(".test.ts")) out.push(relative(base, full).split(sep).join("/"));
  }
}

export function where(node: Node): string {
  const sf = node.getSourceFile();
  const { line, column } = sf.getLineAndColumnAtPos(node.getStart());
  return `${sf.getFilePath().replace(/^\/blocks\//, "")}:${line}:${column}`;
}

function fail(node: Node, message: string): never {
  throw new CodegenError(`block library contract: ${where(node)}: ${message}`);
}

const cache = new Map<string, Library>();

/** Load (and memoize per directory and file contents) the block library under `dir`. */
export function loadLibrary(dir: string): Library {
  const paths: string[] = [];
  walk(dir, dir, paths);
  const texts = paths.map((p) => readFileSync(join(dir, p), "utf8"));
  const key = `${dir}\0${paths.map((p, i) => `${p}\0${texts[i]!}`).join("\0")}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const project = new Project({ useInMemoryFileSystem: true, skipLoadingLibFiles: true, compilerOptions: { allowJs: false } });
  const files = new Map<string, SourceFile>();
  paths.forEach((p, i) => files.set(p, project.createSourceFile(`/blocks/${p}`, texts[i]!)));
  const hooksFile = files.get(HOOKS);
  if (!hooksFile) throw new CodegenError(`block library ${dir} has no ${HOOKS}`);
  const hooks = readHooks(hooksFile);
  const entryPath = ENTRY_FILES.find((p) => files.get(p)?.getFunction("start")?.isExported() === true);
  if (entryPath === undefined) {
    throw new CodegenError(`block library ${dir}: no file among ${ENTRY_FILES.join(", ")} exports the Protocol methods (${PROTOCOL_METHODS.join(", ")}) as functions of (s, ...)`);
  }
  const blocks = new Map<string, BlockFile>();
  const lib: Library = {
    dir,
    project,
    hooks,
    kernel: readKernel(files.get(entryPath)!, entryPath),
    kernelState: files.has(KERNEL) ? readState(files.get(KERNEL)!) : undefined,
    files,
    block(path: string): BlockFile {
      const known = blocks.get(path);
      if (known) return known;
      const sf = files.get(path);
      if (!sf || path === KERNEL || path === HOOKS || path === PARAMS || path === entryPath) throw new CodegenError(`no block file ${path} in ${dir}`);
      const b = readBlock(sf, path, hooks);
      blocks.set(path, b);
      return b;
    },
  };
  cache.set(key, lib);
  return lib;
}

function readHooks(sf: SourceFile): HookSpec[] {
  const iface = sf.getInterface("Hooks");
  if (!iface) throw new CodegenError(`${HOOKS}: no \`interface Hooks\``);
  const table = readHookTable(sf);
  return iface.getMethods().map((m) => {
    const params = m.getParameters();
    const evParam = params[params.length - 1];
    if (!evParam || params.length > 2 || (params.length === 2 && params[0]!.getName() !== "s")) fail(m, `hook ${m.getName()} must take (ev) or (s, ev)`);
    const evType = evParam.getTypeNode()?.getText();
    const returnType = m.getReturnTypeNode()?.getText();
    if (evType === undefined || returnType === undefined) fail(m, `hook ${m.getName()} needs explicit parameter and return types`);
    const returnsBoolean = /^(Promise<)?boolean>?$/.test(returnType);
    const info = table.get(m.getName());
    const either = info?.async === "either";
    if (either && returnType !== EITHER_RETURN) fail(m, `hook ${m.getName()}: HOOKS says async = "either", so it must return ${EITHER_RETURN}`);
    if (!either && !returnsBoolean && !/^(Promise<)?void>?$/.test(returnType)) fail(m, `hook ${m.getName()} must return void, boolean or a Promise of one`);
    const isAsync = either || info?.async === true || (info?.async === undefined && /^Promise</.test(returnType));
    if (!either && isAsync !== /^Promise</.test(returnType)) fail(m, `hook ${m.getName()}: HOOKS says async = ${String(isAsync)} but it returns ${returnType}`);
    if (!isValidName(m.getName())) fail(m, `hook name ${m.getName()} is not an identifier`);
    if ((PROTOCOL_METHODS as readonly string[]).includes(m.getName()) || (OPTIONAL_PROTOCOL_METHODS as readonly string[]).includes(m.getName())) {
      fail(m, `hook ${m.getName()} collides with a Protocol method`);
    }
    return { name: m.getName(), evType, returnType, isAsync, either, isFilter: info?.filter ?? returnsBoolean, returnsBoolean };
  });
}

/** `export const HOOKS = { onX: { async: true, filter: false, ... }, ... }`, read syntactically. */
function readHookTable(sf: SourceFile): Map<string, { async?: boolean | "either"; filter?: boolean }> {
  const out = new Map<string, { async?: boolean | "either"; filter?: boolean }>();
  const init = sf.getVariableDeclaration("HOOKS")?.getInitializer();
  if (!init || !Node.isObjectLiteralExpression(init)) return out;
  for (const prop of init.getProperties()) {
    if (!Node.isPropertyAssignment(prop)) continue;
    const value = prop.getInitializer();
    if (!value || !Node.isObjectLiteralExpression(value)) continue;
    const flag = (key: string): boolean | undefined => {
      const p = value.getProperty(key);
      const t = p && Node.isPropertyAssignment(p) ? p.getInitializer()?.getText() : undefined;
      return t === "true" ? true : t === "false" ? false : undefined;
    };
    const entry: { async?: boolean | "either"; filter?: boolean } = {};
    const ap = value.getProperty("async");
    const a = ap && Node.isPropertyAssignment(ap) && ap.getInitializer()?.getText() === '"either"' ? "either" : flag("async");
    const f = flag("filter");
    if (a !== undefined) entry.async = a;
    if (f !== undefined) entry.filter = f;
    out.set(prop.getName(), entry);
  }
  return out;
}

function readFields(sf: SourceFile): FieldSpec[] {
  const iface = sf.getInterface("Fields");
  if (!iface) return [];
  return iface.getProperties().map((p) => {
    const type = p.getTypeNode()?.getText();
    if (type === undefined) fail(p, `field ${p.getName()} needs a type`);
    if (!isValidName(p.getName())) fail(p, `field ${p.getName()} is not an identifier`);
    return { name: p.getName(), type, optional: p.hasQuestionToken() };
  });
}

/** Runtime imports, type-only imports, and value imports of library files (tags.ts) are allowed; copies resolve them. */
function checkImports(sf: SourceFile): void {
  for (const imp of sf.getImportDeclarations()) {
    const spec = imp.getModuleSpecifierValue();
    // Node built-ins are everywhere a generated package runs; anything else would be a dependency it lacks.
    if (RUNTIME_SPECIFIERS.has(spec) || spec.startsWith(".") || spec.startsWith("node:")) {
      if (imp.getDefaultImport() || imp.getNamespaceImport()) fail(imp, "default and namespace imports are outside the contract");
      continue;
    }
    if (imp.isTypeOnly()) fail(imp, `type import from ${JSON.stringify(spec)}: generated packages depend only on @egida/runtime-core`);
    fail(imp, `imports must come from @egida/runtime-core, node: built-ins or the block library (found ${JSON.stringify(spec)})`);
  }
}

function readBlock(sf: SourceFile, path: string, hooks: readonly HookSpec[]): BlockFile {
  checkImports(sf);
  const hookNames = new Set(hooks.map((h) => h.name));
  const found = new Map<string, FunctionDeclaration>();
  for (const fn of sf.getFunctions()) {
    const n = fn.getName();
    if (n === undefined || !fn.isExported() || n === "init") continue;
    if (!hookNames.has(n)) fail(fn, `exported function ${n} is not a hook in ${HOOKS}`);
    checkHook(fn, hooks.find((h) => h.name === n)!);
    found.set(n, fn);
  }
  const init = sf.getFunction("init");
  if (init) checkInit(init);
  return { path, sourceFile: sf, fields: readFields(sf), init, hooks: found };
}

function readState(sf: SourceFile): BlockFile | undefined {
  const init = sf.getFunction("init");
  if (init) checkInit(init);
  const fields = readFields(sf);
  return init || fields.length > 0 ? { path: KERNEL, sourceFile: sf, fields, init, hooks: new Map() } : undefined;
}

function readKernel(sf: SourceFile, path: string): Kernel {
  checkImports(sf);
  const methods = new Map<string, FunctionDeclaration>();
  for (const m of PROTOCOL_METHODS) {
    const fn = sf.getFunction(m);
    if (!fn || !fn.isExported()) throw new CodegenError(`block library contract: ${path} must export function ${m}(s, ...) (the Protocol method)`);
    const first = fn.getParameters()[0];
    if (!first || !isStateName(first.getName())) fail(fn, `Protocol method ${m} must take s first`);
    if (!fn.getBody()) fail(fn, `Protocol method ${m} needs a body`);
    methods.set(m, fn);
  }
  for (const m of OPTIONAL_PROTOCOL_METHODS) {
    const fn = sf.getFunction(m);
    if (!fn || !fn.isExported()) continue;
    const first = fn.getParameters()[0];
    if (!first || !isStateName(first.getName())) fail(fn, `Protocol method ${m} must take s first`);
    if (!fn.getBody()) fail(fn, `Protocol method ${m} needs a body`);
    methods.set(m, fn);
  }
  return { path, sourceFile: sf, methods };
}

/** `s`, or `_s` when the body does not use it. */
function isStateName(n: string): boolean {
  return n === "s" || n === "_s";
}

/** A parameter named `_x` must not be used: the emitted code binds it as `x`. */
function checkUnderscoreParam(fn: FunctionDeclaration, index: number): void {
  const p = fn.getParameters()[index];
  if (!p || !p.getName().startsWith("_")) return;
  const used = fn.getBody()?.getDescendantsOfKind(SyntaxKind.Identifier).some((id) => id.getText() === p.getName());
  if (used === true) fail(p, `parameter ${p.getName()} is used; name it ${p.getName().slice(1)}`);
}

function checkInit(fn: FunctionDeclaration): void {
  const ps = fn.getParameters();
  if (ps.length < 1 || ps.length > 2 || !isStateName(ps[0]!.getName()) || (ps[1] !== undefined && ps[1].getName() !== "host")) {
    fail(fn, "init must take (s) or (s, host)");
  }
  checkUnderscoreParam(fn, 0);
  if (fn.isAsync()) fail(fn, "init must be synchronous (it runs in the constructor)");
  for (const r of returnsOf(fn)) fail(r, "init must not return");
}

function checkHook(fn: FunctionDeclaration, spec: HookSpec): void {
  const ps = fn.getParameters();
  if (ps.length !== 2 || !isStateName(ps[0]!.getName()) || !["ev", "_ev"].includes(ps[1]!.getName())) fail(fn, `hook ${spec.name} must take exactly (s, ev)`);
  checkUnderscoreParam(fn, 0);
  checkUnderscoreParam(fn, 1);
  if (!fn.getBody()) fail(fn, `hook ${spec.name} needs a body`);
  if (!spec.either && fn.isAsync() !== spec.isAsync) fail(fn, `hook ${spec.name} must ${spec.isAsync ? "" : "not "}be async, as declared in ${HOOKS}`);
  const rets = returnsOf(fn);
  if (spec.either) {
    const want = fn.isAsync() ? "Promise<void>" : EITHER_RETURN;
    if (fn.getReturnTypeNode()?.getText() !== want) fail(fn, `hook ${spec.name}: ${fn.isAsync() ? "an async" : "a non-async"} block returns ${want}`);
    if (fn.isAsync() && rets.length > 0) fail(rets[0]!, `hook ${spec.name}: an async block must not return (await instead; bodies are spliced)`);
    for (const r of rets) if (r.getExpression() === undefined) fail(r, `hook ${spec.name}: \`return\` takes the promise the rest of the chain waits for`);
  } else if (!spec.isFilter && rets.length > 0) fail(rets[0]!, `hook ${spec.name} is not a filter: its body must not return (bodies are spliced)`);
  for (const r of rets) if (r.getExpression() === undefined) fail(r, `filter ${spec.name} must return a boolean`);
  for (const d of fn.getDescendantsOfKind(SyntaxKind.Identifier)) {
    if (d.getText() === "arguments") fail(d, "hook bodies must not use `arguments`");
  }
  for (const t of fn.getDescendantsOfKind(SyntaxKind.ThisKeyword)) {
    if (!insideNestedFunction(t, fn)) fail(t, "hook bodies must use `s`, not `this`");
  }
}

/** The return type of an `async: "either"` hook and of its non-async blocks. */
export const EITHER_RETURN = "Promise<void> | void";

/** Return statements of `fn` itself (not of functions nested in it). */
export function returnsOf(fn: Node) {
  return fn.getDescendantsOfKind(SyntaxKind.ReturnStatement).filter((r) => !insideNestedFunction(r, fn));
}

export function insideNestedFunction(node: Node, root: Node): boolean {
  for (let p = node.getParent(); p && p !== root; p = p.getParent()) {
    if (Node.isFunctionLikeDeclaration(p) || Node.isArrowFunction(p) || Node.isFunctionExpression(p)) return true;
  }
  return false;
}
