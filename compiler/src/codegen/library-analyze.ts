/**
 * Analysis half of "analyze, then manipulate": read the block library with
 * ts-morph (syntax only, in memory, no type checker: the block files are
 * type-checked by the workspace build), check the contract of
 * docs/codegen-design.md, and describe it as plain data (library-model.ts).
 * Violations are generator bugs, reported as CodegenError naming the file and
 * line.
 *
 * ts-morph (and its TypeScript) costs most of a second to load, so it is
 * required here only when a library is analyzed: at build time for the
 * built-in library (library-artifact.ts), or for a library without a current
 * artifact (a test fixture, a block file edited since the build).
 */
import { createRequire } from "node:module";
import type { FunctionDeclaration, Node as TsNode, SourceFile, Statement } from "ts-morph";
import { CodegenError, isValidName } from "./code.js";
import {
  EITHER_RETURN,
  OPTIONAL_PROTOCOL_METHODS,
  PROTOCOL_METHODS,
  RUNTIME_LIB_SPECIFIER,
  RUNTIME_SPECIFIERS,
  type BlockModel,
  type FieldSpec,
  type FileModel,
  type FnModel,
  type HookSpec,
  type ImportModel,
  type InitStatement,
  type KernelModel,
  type LibraryModel,
  type RNode,
  type StatementModel,
} from "./library-model.js";

type TsMorph = typeof import("ts-morph");
let tsm: TsMorph | undefined;
export function morph(): TsMorph {
  tsm ??= createRequire(import.meta.url)("ts-morph") as TsMorph;
  return tsm;
}

const KERNEL = "kernel.ts";
const HOOKS = "hooks.ts";
const PARAMS = "params.ts";
/** Where the Protocol methods may live, in search order. */
const ENTRY_FILES = [KERNEL, "protocol.ts", "entry.ts", "spi.ts"];

export function where(node: TsNode): string {
  const sf = node.getSourceFile();
  const { line, column } = sf.getLineAndColumnAtPos(node.getStart());
  return `${sf.getFilePath().replace(/^\/blocks\//, "")}:${line}:${column}`;
}

/** The public block API's specifier (blocks/api.ts): what a plugin's block file imports from. */
export const BLOCK_API_SPECIFIER = "egida-gen/blocks";

function fail(node: TsNode, message: string): never {
  throw new CodegenError(`block library contract: ${where(node)}: ${message}`);
}

/** Analyze the library whose files are `texts` (relative path → text, `/`-separated); `dir` names it in errors. */
export function analyzeLibrary(dir: string, texts: ReadonlyMap<string, string>): LibraryModel {
  const { Project } = morph();
  const project = new Project({ useInMemoryFileSystem: true, skipLoadingLibFiles: true, compilerOptions: { allowJs: false } });
  const files = new Map<string, SourceFile>();
  for (const [p, text] of texts) files.set(p, project.createSourceFile(`/blocks/${p}`, text));
  const hooksFile = files.get(HOOKS);
  if (!hooksFile) throw new CodegenError(`block library ${dir} has no ${HOOKS}`);
  const hooks = readHooks(hooksFile);
  const entryPath = ENTRY_FILES.find((p) => files.get(p)?.getFunction("start")?.isExported() === true);
  if (entryPath === undefined) {
    throw new CodegenError(`block library ${dir}: no file among ${ENTRY_FILES.join(", ")} exports the Protocol methods (${PROTOCOL_METHODS.join(", ")}) as functions of (s, ...)`);
  }
  const hooksIface = hooksFile.getInterfaceOrThrow("Hooks");
  const hookRefs: Record<string, string[]> = {};
  for (const h of hooks) hookRefs[h.name] = [...referencedNames(hooksIface.getMethodOrThrow(h.name))];
  const blocks: Record<string, BlockModel | { error: string }> = {};
  for (const [p, sf] of files) {
    if (p === KERNEL || p === HOOKS || p === PARAMS || p === entryPath) continue;
    try {
      blocks[p] = readBlock(sf, p, hooks);
    } catch (e: unknown) {
      if (!(e instanceof CodegenError)) throw e;
      // Not a block file (a helper, a facts step), or a broken one: an error only if selected.
      blocks[p] = { error: e.message };
    }
  }
  const kernelState = files.has(KERNEL) ? readState(files.get(KERNEL)!) : undefined;
  const fileModels: Record<string, FileModel> = {};
  for (const [p, sf] of files) fileModels[p] = fileModel(sf, p);
  return {
    hooks,
    hookRefs,
    kernel: readKernel(files.get(entryPath)!, entryPath),
    ...(kernelState ? { kernelState } : {}),
    files: fileModels,
    blocks,
  };
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
  const { Node } = morph();
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
    // egida-gen/blocks: a plugin block's imports, mapped to the library files by plugin-analyze.ts.
    // @egida/runtime-core/protocol-lib: helpers generated packages import from the runtime they depend on.
    if (RUNTIME_SPECIFIERS.has(spec) || spec === RUNTIME_LIB_SPECIFIER || spec.startsWith(".") || spec.startsWith("node:") || spec === BLOCK_API_SPECIFIER) {
      if (imp.getDefaultImport() || imp.getNamespaceImport()) fail(imp, "default and namespace imports are outside the contract");
      continue;
    }
    if (imp.isTypeOnly()) fail(imp, `type import from ${JSON.stringify(spec)}: generated packages depend only on @egida/runtime-core`);
    fail(imp, `imports must come from @egida/runtime-core (/spi, /protocol-lib), node: built-ins or the block library (found ${JSON.stringify(spec)})`);
  }
}

function blockParts(sf: SourceFile, path: string, hookFns: ReadonlyMap<string, FunctionDeclaration>): BlockModel {
  const fields = readFields(sf);
  const iface = sf.getInterface("Fields");
  const init = sf.getFunction("init");
  const hooks: Record<string, FnModel> = {};
  for (const [n, fn] of hookFns) hooks[n] = fnModel(fn);
  return {
    path,
    fields,
    // The members' types only: an `extends` names a shared-state interface the members redeclare, never copied.
    ...(iface ? { fieldsRefs: [...new Set(iface.getMembers().flatMap((m) => [...referencedNames(m)]))] } : {}),
    ...(init ? { init: { statements: initStatements(init, fields) } } : {}),
    hooks,
  };
}

export function readBlock(sf: SourceFile, path: string, hooks: readonly HookSpec[]): BlockModel {
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
  const purpose = manifestPurpose(sf);
  return { ...blockParts(sf, path, found), ...(purpose !== undefined ? { purpose } : {}) };
}

/**
 * `purpose` of `export const manifest = { purpose: "...", ... }`, read
 * syntactically. Only the purpose goes into the model: the manifest is data
 * for selection and the registry, and no hook body references it, so the
 * emitters' dependency closure never copies it into generated code.
 */
function manifestPurpose(sf: SourceFile): string | undefined {
  const { Node } = morph();
  const decl = sf.getVariableDeclaration("manifest");
  if (!decl) return undefined;
  const init = decl.getInitializer();
  if (!init || !Node.isObjectLiteralExpression(init)) fail(decl, "the manifest must be an object literal (blocks/manifest.ts)");
  const prop = init.getProperty("purpose");
  const value = prop && Node.isPropertyAssignment(prop) ? prop.getInitializer() : undefined;
  if (!value || !(Node.isStringLiteral(value) || Node.isNoSubstitutionTemplateLiteral(value))) fail(decl, "manifest.purpose must be a string literal");
  const text = value.getLiteralValue();
  if (text.includes("\n")) fail(value, "manifest.purpose is one line");
  return text;
}

function readState(sf: SourceFile): BlockModel | undefined {
  const init = sf.getFunction("init");
  if (init) checkInit(init);
  const fields = readFields(sf);
  return init || fields.length > 0 ? blockParts(sf, KERNEL, new Map()) : undefined;
}

function readKernel(sf: SourceFile, path: string): KernelModel {
  checkImports(sf);
  const methods: Record<string, FnModel> = {};
  for (const m of PROTOCOL_METHODS) {
    const fn = sf.getFunction(m);
    if (!fn || !fn.isExported()) throw new CodegenError(`block library contract: ${path} must export function ${m}(s, ...) (the Protocol method)`);
    checkMethod(fn, m);
    methods[m] = fnModel(fn);
  }
  for (const m of OPTIONAL_PROTOCOL_METHODS) {
    const fn = sf.getFunction(m);
    if (!fn || !fn.isExported()) continue;
    checkMethod(fn, m);
    methods[m] = fnModel(fn);
  }
  return { path, methods };
}

function checkMethod(fn: FunctionDeclaration, m: string): void {
  const first = fn.getParameters()[0];
  if (!first || !isStateName(first.getName())) fail(fn, `Protocol method ${m} must take s first`);
  if (!fn.getBody()) fail(fn, `Protocol method ${m} needs a body`);
}

/** `s`, or `_s` when the body does not use it. */
function isStateName(n: string): boolean {
  return n === "s" || n === "_s";
}

/** A parameter named `_x` must not be used: the emitted code binds it as `x`. */
function checkUnderscoreParam(fn: FunctionDeclaration, index: number): void {
  const { SyntaxKind } = morph();
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
  const { SyntaxKind } = morph();
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

/** Return statements of `fn` itself (not of functions nested in it). */
function returnsOf(fn: TsNode) {
  const { SyntaxKind } = morph();
  return fn.getDescendantsOfKind(SyntaxKind.ReturnStatement).filter((r) => !insideNestedFunction(r, fn));
}

function isFunctionLike(n: TsNode): boolean {
  const { Node } = morph();
  return Node.isFunctionLikeDeclaration(n) || Node.isArrowFunction(n) || Node.isFunctionExpression(n);
}

function insideNestedFunction(node: TsNode, root: TsNode): boolean {
  for (let p = node.getParent(); p && p !== root; p = p.getParent()) if (isFunctionLike(p)) return true;
  return false;
}

/** An identifier used as a value or type reference (not a property name, not a declaration name). */
export function isReference(id: TsNode): boolean {
  const { Node } = morph();
  const p = id.getParent();
  if (!p) return true;
  if (Node.isPropertyAccessExpression(p) && p.getNameNode() === id) return false;
  if (Node.isQualifiedName(p) && p.getRight() === id) return false;
  if ((Node.isPropertyAssignment(p) || Node.isPropertySignature(p) || Node.isPropertyDeclaration(p) || Node.isMethodDeclaration(p) || Node.isMethodSignature(p)) && p.getNameNode() === id) return false;
  if (Node.isShorthandPropertyAssignment(p)) return true;
  if (Node.isBindingElement(p) && p.getPropertyNameNode() === id) return false;
  if ((Node.isVariableDeclaration(p) || Node.isParameterDeclaration(p) || Node.isFunctionDeclaration(p) || Node.isBindingElement(p)) && p.getNameNode() === id) return false;
  if (Node.isLabeledStatement(p) || Node.isBreakStatement(p) || Node.isContinueStatement(p)) return false;
  return true;
}

/** Identifiers referenced (as values or types) in `node`, in first-use order. */
export function referencedNames(node: TsNode): Set<string> {
  const { Node, SyntaxKind } = morph();
  const out = new Set<string>();
  for (const id of node.getDescendantsOfKind(SyntaxKind.Identifier)) {
    if (isReference(id)) out.add(id.getText());
  }
  if (Node.isIdentifier(node)) out.add(node.getText());
  return out;
}

function fnModel(fn: FunctionDeclaration): FnModel {
  const { Node } = morph();
  const body = fn.getBody();
  if (!body || !Node.isBlock(body)) throw new CodegenError(`${where(fn)}: ${fn.getName() ?? "function"} has no body`);
  const bodyRefs = referencedNames(body);
  const retType = fn.getReturnTypeNode()?.getText();
  return {
    name: fn.getName() ?? "",
    isAsync: fn.isAsync(),
    params: fn.getParameters().map((p) => {
      const type = p.getTypeNode()?.getText();
      return { name: p.getNameNode().getText(), ...(type !== undefined ? { type } : {}), optional: p.hasQuestionToken() };
    }),
    ...(retType !== undefined ? { returnType: retType } : {}),
    body: renderTree(body, fn),
    refs: [...referencedNames(fn)],
    bodyRefs: [...bodyRefs],
    usesS: fn.getParameters()[0]?.getName() === "s" && bodyRefs.has("s"),
    hasReturn: returnsOf(fn).length > 0,
  };
}

function initStatements(init: FunctionDeclaration, fields: readonly FieldSpec[]): InitStatement[] {
  const hostParam = init.getParameters()[1] !== undefined;
  return init.getStatements().map((st) => {
    const lift = liftable(st, fields, hostParam, init);
    return { node: renderTree(st, init), refs: [...referencedNames(st)], ...(lift ? { lift } : {}) };
  });
}

function liftable(st: Statement, fields: readonly FieldSpec[], hostParam: boolean, init: FunctionDeclaration): InitStatement["lift"] {
  const { Node } = morph();
  if (!Node.isExpressionStatement(st)) return undefined;
  const e = st.getExpression();
  if (!Node.isBinaryExpression(e) || e.getOperatorToken().getText() !== "=") return undefined;
  const left = e.getLeft();
  if (!Node.isPropertyAccessExpression(left) || left.getExpression().getText() !== "s") return undefined;
  const field = left.getName();
  if (!fields.some((f) => f.name === field)) return undefined;
  const refs = referencedNames(e.getRight());
  if (refs.has("s") || (hostParam && refs.has("host")) || refs.has("this")) return undefined;
  return { field, value: renderTree(e.getRight(), init) };
}

/** The render tree of `node`, which lies in function `root` (render.ts, library-model.ts RNode). */
export function renderTree(node: TsNode, root: TsNode): RNode {
  const { Node, SyntaxKind } = morph();
  const base = (n: TsNode) => ({ s: n.getStart(), e: n.getEnd() });
  const interesting = (n: TsNode): boolean => {
    if (Node.isIfStatement(n) || Node.isConditionalExpression(n) || Node.isReturnStatement(n) || Node.isAwaitExpression(n) || isFunctionLike(n)) return true;
    if (Node.isBinaryExpression(n)) {
      const op = n.getOperatorToken().getKind();
      return op === SyntaxKind.AmpersandAmpersandToken || op === SyntaxKind.BarBarToken || isParamComparison(n);
    }
    if (Node.isCallExpression(n)) return isParamCall(n);
    if (Node.isIdentifier(n)) return n.getText() === "s" && isReference(n);
    return false;
  };
  const EQ = new Set([SyntaxKind.EqualsEqualsEqualsToken, SyntaxKind.ExclamationEqualsEqualsToken, SyntaxKind.EqualsEqualsToken, SyntaxKind.ExclamationEqualsToken]);
  const isLiteral = (n: TsNode): boolean => Node.isStringLiteral(n) || Node.isNumericLiteral(n) || n.getKind() === SyntaxKind.TrueKeyword || n.getKind() === SyntaxKind.FalseKeyword;
  /** `param("k") === "text"` (either side, any equality operator): folded when the parameter is known. */
  const isParamComparison = (n: TsNode): boolean => {
    if (!Node.isBinaryExpression(n) || !EQ.has(n.getOperatorToken().getKind())) return false;
    const l = n.getLeft();
    const r = n.getRight();
    return (isParamCall(l) && isLiteral(r)) || (isLiteral(l) && isParamCall(r));
  };
  const isParamCall = (n: TsNode): boolean => {
    if (!Node.isCallExpression(n)) return false;
    const callee = n.getExpression();
    return Node.isIdentifier(callee) && callee.getText() === "param";
  };
  /** Kept descendants of `n`, flattened through nodes the renderer ignores. */
  const kids = (n: TsNode): RNode[] => {
    const out: RNode[] = [];
    n.forEachChild((child) => {
      if (interesting(child)) out.push(slot(child));
      else out.push(...kids(child));
    });
    return out;
  };
  const withKids = (n: TsNode, k: RNode["k"], extra: Partial<RNode> = {}): RNode => {
    const c = kids(n);
    return { k, ...base(n), ...extra, ...(c.length > 0 ? { c } : {}) };
  };
  const slot = (n: TsNode): RNode => {
    if (Node.isIfStatement(n)) {
      const parent = n.getParent();
      const els = n.getElseStatement();
      return {
        k: "if",
        ...base(n),
        inBlock: Node.isBlock(parent) || Node.isSourceFile(parent),
        pad: n.getStartLinePos() === n.getStart() ? 0 : n.getStart() - n.getStartLinePos(),
        c: [slot(n.getExpression()), slot(n.getThenStatement()), ...(els ? [slot(els)] : [])],
      };
    }
    if (Node.isBinaryExpression(n) && isParamComparison(n)) {
      const op = n.getOperatorToken().getKind();
      const neg = op === SyntaxKind.ExclamationEqualsEqualsToken || op === SyntaxKind.ExclamationEqualsToken;
      return { k: "eq", ...base(n), ...(neg ? { neg: true } : {}), c: [slot(n.getLeft()), slot(n.getRight())] };
    }
    if (Node.isStringLiteral(n)) return { k: "lit", ...base(n), v: n.getLiteralValue() };
    if (Node.isNumericLiteral(n)) return { k: "lit", ...base(n), v: n.getLiteralValue() };
    if (Node.isBinaryExpression(n) && interesting(n)) {
      return { k: n.getOperatorToken().getKind() === SyntaxKind.AmpersandAmpersandToken ? "and" : "or", ...base(n), c: [slot(n.getLeft()), slot(n.getRight())] };
    }
    if (Node.isConditionalExpression(n)) return { k: "cond", ...base(n), c: [slot(n.getCondition()), slot(n.getWhenTrue()), slot(n.getWhenFalse())] };
    if (Node.isCallExpression(n) && isParamCall(n)) {
      const args = n.getArguments();
      const arg = args[0];
      const key = arg && Node.isStringLiteral(arg) ? arg.getLiteralValue() : undefined;
      const ty = n.getTypeArguments()[0]?.getText();
      return { k: "param", ...base(n), w: where(n), ...(key !== undefined ? { key } : {}), ...(args.length !== 1 || key === undefined ? { bad: true } : {}), ...(ty !== undefined ? { ty } : {}) };
    }
    if (Node.isReturnStatement(n)) {
      const e = n.getExpression();
      const stmts = Node.isFunctionDeclaration(root) ? root.getStatements() : [];
      return {
        k: "ret",
        ...base(n),
        w: where(n),
        ...(insideNestedFunction(n, root) ? { nested: true } : {}),
        ...(stmts[stmts.length - 1] === n ? { last: true } : {}),
        ...(e ? { c: [slot(e)] } : {}),
      };
    }
    if (Node.isIdentifier(n) && interesting(n)) return { k: "s", ...base(n), ...(Node.isShorthandPropertyAssignment(n.getParent()) ? { sh: true } : {}) };
    if (Node.isAwaitExpression(n)) return withKids(n, "await");
    if (isFunctionLike(n)) return withKids(n, "fn");
    if (Node.isParenthesizedExpression(n)) return { k: "paren", ...base(n), c: [slot(n.getExpression())] };
    if (Node.isPrefixUnaryExpression(n) && n.getOperatorToken() === SyntaxKind.ExclamationToken) return { k: "not", ...base(n), c: [slot(n.getOperand())] };
    if (Node.isBlock(n)) {
      const stmts = n.getStatements();
      const decl = stmts.some((st) => Node.isVariableStatement(st) || Node.isFunctionDeclaration(st) || Node.isClassDeclaration(st));
      return withKids(n, "block", { n: stmts.length, ...(decl ? { decl: true } : {}) });
    }
    if (n.getKind() === SyntaxKind.TrueKeyword) return { k: "true", ...base(n) };
    if (n.getKind() === SyntaxKind.FalseKeyword) return { k: "false", ...base(n) };
    return withKids(n, "x");
  };
  return slot(node);
}

function declaredNames(stmt: Statement): string[] {
  const { Node } = morph();
  if (Node.isFunctionDeclaration(stmt) || Node.isClassDeclaration(stmt)) return stmt.getName() !== undefined ? [stmt.getName()!] : [];
  if (Node.isInterfaceDeclaration(stmt) || Node.isTypeAliasDeclaration(stmt) || Node.isEnumDeclaration(stmt)) return [stmt.getName()];
  if (Node.isVariableStatement(stmt)) return stmt.getDeclarations().map((d) => d.getName());
  return [];
}

/**
 * The statement as generated code holds it: only its own doc comment (the
 * nearest JSDoc), not a file header before it, and without `export` (or
 * `export default`): a copied declaration is module-private in the generated
 * file, whose exports are only its API (the protocol class and factory).
 */
function declarationText(stmt: Statement): string {
  const { Node } = morph();
  const docs = Node.isJSDocable(stmt) ? stmt.getJsDocs() : [];
  const doc = docs[docs.length - 1];
  const text = withoutExport(stmt);
  return doc ? `${doc.getText()}\n${text}` : text;
}

/** The statement's text with its `export` and `default` modifiers removed (the whitespace after each too). */
function withoutExport(stmt: Statement): string {
  const { Node } = morph();
  const text = stmt.getText();
  if (!Node.isExportable(stmt)) return text;
  const start = stmt.getStart();
  const cuts = [stmt.getExportKeyword(), stmt.getDefaultKeyword()]
    .filter((k) => k !== undefined)
    .map((k) => ({ from: k.getStart() - start, to: k.getEnd() - start }))
    .sort((a, b) => b.from - a.from);
  let out = text;
  for (const c of cuts) out = out.slice(0, c.from) + out.slice(c.to).replace(/^[ \t]+/, "");
  return out;
}

export function fileModel(sf: SourceFile, path: string): FileModel {
  const { Node } = morph();
  const imports: ImportModel[] = [];
  const otherImports: string[] = [];
  for (const imp of sf.getImportDeclarations()) {
    for (const spec of imp.getNamedImports()) {
      imports.push({ local: spec.getAliasNode()?.getText() ?? spec.getName(), original: spec.getName(), module: imp.getModuleSpecifierValue(), typeOnly: imp.isTypeOnly() || spec.isTypeOnly() });
    }
    const ns = imp.getNamespaceImport()?.getText();
    const def = imp.getDefaultImport()?.getText();
    if (ns !== undefined) otherImports.push(ns);
    if (def !== undefined) otherImports.push(def);
  }
  const statements: StatementModel[] = [];
  for (const st of sf.getStatements()) {
    const names = declaredNames(st);
    if (names.length === 0) continue;
    statements.push({ names, pos: st.getPos(), text: declarationText(st), refs: [...referencedNames(st)], exportedFunction: Node.isFunctionDeclaration(st) && st.isExported() });
  }
  return { path, text: sf.getFullText(), imports, otherImports, statements };
}
