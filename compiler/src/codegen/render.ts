/**
 * Manipulation half: render a block function's body as text with the
 * substitutions the back ends need, without mutating the analyzed AST (one
 * block file serves several instances with different parameters).
 *
 * - `param<T>("x")` → `(<literal> as T)`: the literal comes from the code
 *   layer (quoted by `str`); the `as T` keeps the type as wide as in the block
 *   file, so narrowing to a literal type cannot turn a comparison into a type
 *   error in the output.
 * - splice mode, filter hooks: `return e;` → `{ if (!(e)) return false; break L; }`
 *   inside the labelled block `L: { ... }`, sound wherever the return is.
 * - splice mode, `async: "either"` hooks spliced into an async chain:
 *   `return e;` → `{ await e; break L; }` (the chain waits, then goes on
 *   after this block).
 * - constructor mode: `s` → `this`, so TypeScript's definite-assignment
 *   analysis sees the field initialisation.
 */
import { Node, SyntaxKind, type Block } from "ts-morph";
import { CodegenError, literal } from "./code.js";
import { insideNestedFunction, where } from "./library.js";
import type { ParamValue } from "./types.js";

export interface RenderOptions {
  readonly params: Readonly<Record<string, ParamValue>>;
  /** Splicing a filter hook body into the labelled block `label`. */
  readonly filterLabel?: string;
  /** What a rejecting filter does: `return;` (void chains) or `return false;`. */
  readonly reject?: string;
  /** Splicing a non-async block of an `async: "either"` hook into an async chain, in the labelled block `label`. */
  readonly awaitLabel?: string;
  /** Rewrite references to the state parameter `s` as `this`. */
  readonly stateToThis?: boolean;
}

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** The text of `node` with substitutions applied. */
export function renderNode(node: Node, root: Node, opts: RenderOptions): string {
  const edits: Edit[] = [];
  collect(node, root, opts, edits);
  edits.sort((a, b) => a.start - b.start);
  const base = node.getStart();
  let text = node.getText();
  for (let i = edits.length - 1; i >= 0; i--) {
    const e = edits[i]!;
    text = text.slice(0, e.start - base) + e.text + text.slice(e.end - base);
  }
  return text;
}

function collect(node: Node, root: Node, opts: RenderOptions, edits: Edit[]): void {
  node.forEachChild((child) => {
    const edit = editFor(child, root, opts);
    if (edit) edits.push(edit);
    else collect(child, root, opts, edits);
  });
}

function editFor(node: Node, root: Node, opts: RenderOptions): Edit | undefined {
  const at = (text: string): Edit => ({ start: node.getStart(), end: node.getEnd(), text });
  // A branch on a boolean parameter is decided here, so the output has no run-time branch on
  // configuration: only the taken arm is emitted.
  if (Node.isIfStatement(node)) {
    const c = decide(node.getExpression(), opts);
    if (typeof c === "boolean") {
      const arm = c ? node.getThenStatement() : node.getElseStatement();
      if (arm === undefined) return at(Node.isBlock(node.getParent()) || Node.isSourceFile(node.getParent()) ? "" : ";");
      return at(armText(arm, node, root, opts));
    }
  }
  // `P && x` with P true, `P || x` with P false: just x.
  if (Node.isBinaryExpression(node)) {
    const op = node.getOperatorToken().getKind();
    const left = decide(node.getLeft(), opts);
    if ((op === SyntaxKind.AmpersandAmpersandToken && left === true) || (op === SyntaxKind.BarBarToken && left === false)) {
      return at(renderNode(node.getRight(), root, opts));
    }
    // `false && x`, `true || x`: x never runs, the value is the parameter's.
    if ((op === SyntaxKind.AmpersandAmpersandToken && left === false) || (op === SyntaxKind.BarBarToken && left === true)) return at(String(left));
  }
  if (Node.isConditionalExpression(node)) {
    const c = decide(node.getCondition(), opts);
    if (typeof c === "boolean") return at(`(${renderNode(c ? node.getWhenTrue() : node.getWhenFalse(), root, opts)})`);
  }
  if (Node.isCallExpression(node)) {
    const callee = node.getExpression();
    if (Node.isIdentifier(callee) && callee.getText() === "param") return at(paramLiteral(node, opts));
  }
  if (opts.filterLabel !== undefined && Node.isReturnStatement(node) && !insideNestedFunction(node, root)) {
    const e = node.getExpression();
    if (!e) throw new CodegenError(`${where(node)}: filter returns without a value`);
    // Literal results need no test; a final `return true` is just the end of the block.
    const reject = opts.reject ?? "return;";
    if (e.getKind() === SyntaxKind.FalseKeyword) return at(reject);
    if (e.getKind() === SyntaxKind.TrueKeyword) return at(isLastStatement(node, root) ? "" : `break ${opts.filterLabel};`);
    return at(`{ if (!(${renderNode(e, root, opts)})) ${reject} break ${opts.filterLabel}; }`);
  }
  if (opts.awaitLabel !== undefined && Node.isReturnStatement(node) && !insideNestedFunction(node, root)) {
    const e = node.getExpression();
    if (!e) throw new CodegenError(`${where(node)}: return without the promise to wait for`);
    return at(`{ await ${renderNode(e, root, opts)}; break ${opts.awaitLabel}; }`);
  }
  if (opts.stateToThis === true && Node.isIdentifier(node) && node.getText() === "s" && isReference(node)) {
    return at(Node.isShorthandPropertyAssignment(node.getParent()) ? "s: this" : "this");
  }
  return undefined;
}

/**
 * Whether `node` still awaits once parameters are folded (an `if`, `&&`/`||`
 * or `?:` arm the parameters rule out is not emitted, so its awaits do not
 * count); functions nested in it do not count either.
 */
export function liveAwait(node: Node, opts: RenderOptions): boolean {
  let found = false;
  const visit = (n: Node): void => {
    if (found || Node.isFunctionLikeDeclaration(n) || Node.isArrowFunction(n) || Node.isFunctionExpression(n)) return;
    if (Node.isAwaitExpression(n)) {
      found = true;
      return;
    }
    if (Node.isIfStatement(n)) {
      const c = decide(n.getExpression(), opts);
      if (typeof c === "boolean") {
        const arm = c ? n.getThenStatement() : n.getElseStatement();
        if (arm !== undefined) visit(arm);
        return;
      }
    }
    if (Node.isBinaryExpression(n)) {
      const op = n.getOperatorToken().getKind();
      const left = decide(n.getLeft(), opts);
      if ((op === SyntaxKind.AmpersandAmpersandToken && left !== undefined) || (op === SyntaxKind.BarBarToken && left !== undefined)) {
        if ((op === SyntaxKind.AmpersandAmpersandToken) === left) visit(n.getRight());
        return;
      }
    }
    if (Node.isConditionalExpression(n)) {
      const c = decide(n.getCondition(), opts);
      if (typeof c === "boolean") {
        visit(c ? n.getWhenTrue() : n.getWhenFalse());
        return;
      }
    }
    n.forEachChild(visit);
  };
  node.forEachChild(visit);
  return found;
}

/**
 * A condition's value when boolean parameters decide it (`param`, `!`, parentheses, and `&&`/`||`
 * with a deciding parameter side), else undefined. Only parameters: other operands may have
 * side effects, so a condition they take part in is left to run.
 */
function decide(e: Node, opts: RenderOptions): boolean | undefined {
  if (Node.isParenthesizedExpression(e)) return decide(e.getExpression(), opts);
  if (Node.isPrefixUnaryExpression(e) && e.getOperatorToken() === SyntaxKind.ExclamationToken) {
    const v = decide(e.getOperand(), opts);
    return v === undefined ? undefined : !v;
  }
  if (Node.isCallExpression(e)) {
    const callee = e.getExpression();
    if (!Node.isIdentifier(callee) || callee.getText() !== "param") return undefined;
    const arg = e.getArguments()[0];
    if (!arg || !Node.isStringLiteral(arg)) return undefined;
    const v = opts.params[arg.getLiteralValue()];
    return typeof v === "boolean" ? v : undefined;
  }
  if (Node.isBinaryExpression(e)) {
    const op = e.getOperatorToken().getKind();
    if (op !== SyntaxKind.AmpersandAmpersandToken && op !== SyntaxKind.BarBarToken) return undefined;
    const left = decide(e.getLeft(), opts);
    const right = decide(e.getRight(), opts);
    // `false && x`, `true || x`: x never runs. `x && false` is not decided: x may have effects.
    if (op === SyntaxKind.AmpersandAmpersandToken) return left === false ? false : left === true && right !== undefined ? right : undefined;
    return left === true ? true : left === false && right !== undefined ? right : undefined;
  }
  return undefined;
}

/**
 * The text of the arm an `if` on a parameter keeps, standing in the `if`'s place: a block's
 * statements unwrapped (and re-indented to the `if`'s column) unless they declare names, which
 * must stay scoped.
 */
function armText(arm: Node, ifStmt: Node, root: Node, opts: RenderOptions): string {
  const inBlock = Node.isBlock(ifStmt.getParent()) || Node.isSourceFile(ifStmt.getParent());
  if (!Node.isBlock(arm) || !inBlock || arm.getStatements().some(declaresName)) return renderNode(arm, root, opts);
  if (arm.getStatements().length === 0) return "";
  const pad = " ".repeat(ifStmt.getStartLinePos() === ifStmt.getStart() ? 0 : ifStmt.getStart() - ifStmt.getStartLinePos());
  return renderBody(arm, root, opts)
    .split("\n")
    .map((l, i) => (i === 0 || l === "" ? l : pad + l))
    .join("\n");
}

function declaresName(st: Node): boolean {
  return Node.isVariableStatement(st) || Node.isFunctionDeclaration(st) || Node.isClassDeclaration(st);
}

function isLastStatement(node: Node, fn: Node): boolean {
  if (!Node.isFunctionDeclaration(fn)) return false;
  const stmts = fn.getStatements();
  return stmts[stmts.length - 1] === node;
}

function paramLiteral(call: Node, opts: RenderOptions): string {
  if (!Node.isCallExpression(call)) throw new CodegenError("unreachable");
  const args = call.getArguments();
  const arg = args[0];
  if (args.length !== 1 || !arg || !Node.isStringLiteral(arg)) throw new CodegenError(`${where(call)}: param() takes one string literal`);
  const key = arg.getLiteralValue();
  if (!Object.prototype.hasOwnProperty.call(opts.params, key)) {
    throw new CodegenError(`${where(call)}: the block instance has no parameter ${JSON.stringify(key)}`);
  }
  const value = opts.params[key]!;
  const typeArg = call.getTypeArguments()[0]?.getText() ?? typeof value;
  return `(${literal(value).text} as ${typeArg})`;
}

/** An identifier used as a value or type reference (not a property name, not a declaration name). */
export function isReference(id: Node): boolean {
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

/** The statements of a function body, rendered and dedented (one string, lines joined by "\n"). */
export function renderBody(body: Block, root: Node, opts: RenderOptions): string {
  const full = renderNode(body, root, opts);
  // renderNode keeps the braces: drop them, then the shared indentation.
  const inner = full.slice(1, full.length - 1);
  return dedent(inner);
}

export function dedent(text: string): string {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  while (lines.length > 0 && lines[0]!.trim() === "") lines.shift();
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === "") lines.pop();
  const indents = lines.filter((l) => l.trim() !== "").map((l) => /^ */.exec(l)![0].length);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(Math.min(cut, /^ */.exec(l)![0].length)).trimEnd()).join("\n");
}

/** Identifiers referenced (as values or types) in `node`, excluding those inside `param()` calls' callee. */
export function referencedNames(node: Node): Set<string> {
  const out = new Set<string>();
  for (const id of node.getDescendantsOfKind(SyntaxKind.Identifier)) {
    if (isReference(id)) out.add(id.getText());
  }
  if (Node.isIdentifier(node)) out.add(node.getText());
  return out;
}
