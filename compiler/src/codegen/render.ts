/**
 * Manipulation half: render a block function's body as text with the
 * substitutions the back ends need, from its render tree (library-model.ts
 * RNode) and its file's text, without touching either (one block file serves
 * several instances with different parameters).
 *
 * - `param("x") === "text"` (any equality operator, either side) → `true` or
 *   `false`, and an `if`, `?:`, `&&` or `||` it decides is folded like one on
 *   a boolean parameter: generated code keeps no comparison of constants.
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
import { CodegenError, literal } from "./code.js";
import type { RNode } from "./library-model.js";
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

const kids = (n: RNode): readonly RNode[] => n.c ?? [];

/** The text of `node` (in file text `src`) with substitutions applied. */
export function renderNode(node: RNode, src: string, opts: RenderOptions): string {
  const edits: Edit[] = [];
  collect(node, src, opts, edits);
  edits.sort((a, b) => a.start - b.start);
  const base = node.s;
  let text = src.slice(node.s, node.e);
  for (let i = edits.length - 1; i >= 0; i--) {
    const e = edits[i]!;
    text = text.slice(0, e.start - base) + e.text + text.slice(e.end - base);
  }
  return text;
}

function collect(node: RNode, src: string, opts: RenderOptions, edits: Edit[]): void {
  for (const child of kids(node)) {
    const edit = editFor(child, src, opts);
    if (edit) edits.push(edit);
    else collect(child, src, opts, edits);
  }
}

function editFor(node: RNode, src: string, opts: RenderOptions): Edit | undefined {
  const at = (text: string): Edit => ({ start: node.s, end: node.e, text });
  const c = kids(node);
  switch (node.k) {
    // A branch on a boolean parameter is decided here, so the output has no run-time branch on
    // configuration: only the taken arm is emitted.
    case "if": {
      const d = decide(c[0]!, opts);
      if (typeof d !== "boolean") return undefined;
      const arm = d ? c[1] : c[2];
      if (arm === undefined) return at(node.inBlock === true ? "" : ";");
      return at(armText(arm, node, src, opts));
    }
    case "and":
    case "or": {
      const left = decide(c[0]!, opts);
      // `P && x` with P true, `P || x` with P false: just x.
      if ((node.k === "and" && left === true) || (node.k === "or" && left === false)) return at(renderNode(c[1]!, src, opts));
      // `false && x`, `true || x`: x never runs, the value is the parameter's.
      if ((node.k === "and" && left === false) || (node.k === "or" && left === true)) return at(String(left));
      return undefined;
    }
    case "cond": {
      const d = decide(c[0]!, opts);
      return typeof d === "boolean" ? at(`(${renderNode(d ? c[1]! : c[2]!, src, opts)})`) : undefined;
    }
    // `param("k") === "text"`: the comparison's value.
    case "eq": {
      const d = decide(node, opts);
      return typeof d === "boolean" ? at(String(d)) : undefined;
    }
    case "param":
      return at(paramLiteral(node, opts));
    case "ret": {
      if (node.nested === true) return undefined;
      if (opts.filterLabel !== undefined) {
        const e = c[0];
        if (!e) throw new CodegenError(`${node.w ?? "?"}: filter returns without a value`);
        // Literal results need no test; a final `return true` is just the end of the block.
        const reject = opts.reject ?? "return;";
        if (e.k === "false") return at(reject);
        if (e.k === "true") return at(node.last === true ? "" : `break ${opts.filterLabel};`);
        return at(`{ if (!(${renderNode(e, src, opts)})) ${reject} break ${opts.filterLabel}; }`);
      }
      if (opts.awaitLabel !== undefined) {
        const e = c[0];
        if (!e) throw new CodegenError(`${node.w ?? "?"}: return without the promise to wait for`);
        return at(`{ await ${renderNode(e, src, opts)}; break ${opts.awaitLabel}; }`);
      }
      return undefined;
    }
    case "s":
      return opts.stateToThis === true ? at(node.sh === true ? "s: this" : "this") : undefined;
    default:
      return undefined;
  }
}

/**
 * Whether `node` still awaits once parameters are folded (an `if`, `&&`/`||`
 * or `?:` arm the parameters rule out is not emitted, so its awaits do not
 * count); functions nested in it do not count either.
 */
export function liveAwait(node: RNode, opts: RenderOptions): boolean {
  let found = false;
  const visit = (n: RNode): void => {
    if (found || n.k === "fn") return;
    if (n.k === "await") {
      found = true;
      return;
    }
    const c = kids(n);
    if (n.k === "if") {
      const d = decide(c[0]!, opts);
      if (typeof d === "boolean") {
        const arm = d ? c[1] : c[2];
        if (arm !== undefined) visit(arm);
        return;
      }
    }
    if (n.k === "and" || n.k === "or") {
      const left = decide(c[0]!, opts);
      if (left !== undefined) {
        if ((n.k === "and") === left) visit(c[1]!);
        return;
      }
    }
    if (n.k === "cond") {
      const d = decide(c[0]!, opts);
      if (typeof d === "boolean") {
        visit(d ? c[1]! : c[2]!);
        return;
      }
    }
    c.forEach(visit);
  };
  kids(node).forEach(visit);
  return found;
}

/**
 * A condition's value when boolean parameters decide it (`param`, `!`, parentheses, and `&&`/`||`
 * with a deciding parameter side), else undefined. Only parameters: other operands may have
 * side effects, so a condition they take part in is left to run.
 */
function decide(e: RNode, opts: RenderOptions): boolean | undefined {
  const c = kids(e);
  switch (e.k) {
    case "paren":
      return decide(c[0]!, opts);
    case "not": {
      const v = decide(c[0]!, opts);
      return v === undefined ? undefined : !v;
    }
    case "param": {
      if (e.key === undefined) return undefined;
      const v = opts.params[e.key];
      return typeof v === "boolean" ? v : undefined;
    }
    case "eq": {
      const a = known(c[0]!, opts);
      const b = known(c[1]!, opts);
      // Only values of one type: `==` between types would coerce, and a mismatch is the block's bug to see.
      if (a === undefined || b === undefined || typeof a !== typeof b) return undefined;
      return (a === b) !== (e.neg === true);
    }
    case "and": {
      const left = decide(c[0]!, opts);
      const right = decide(c[1]!, opts);
      // `false && x`, `true || x`: x never runs. `x && false` is not decided: x may have effects.
      return left === false ? false : left === true && right !== undefined ? right : undefined;
    }
    case "or": {
      const left = decide(c[0]!, opts);
      const right = decide(c[1]!, opts);
      return left === true ? true : left === false && right !== undefined ? right : undefined;
    }
    default:
      return undefined;
  }
}

/** A comparison operand's value: a parameter's, or a literal's. */
function known(e: RNode, opts: RenderOptions): ParamValue | undefined {
  if (e.k === "lit") return e.v;
  if (e.k === "true") return true;
  if (e.k === "false") return false;
  if (e.k === "param" && e.key !== undefined && Object.prototype.hasOwnProperty.call(opts.params, e.key)) return opts.params[e.key];
  return undefined;
}

/**
 * The text of the arm an `if` on a parameter keeps, standing in the `if`'s place: a block's
 * statements unwrapped (and re-indented to the `if`'s column) unless they declare names, which
 * must stay scoped.
 */
function armText(arm: RNode, ifStmt: RNode, src: string, opts: RenderOptions): string {
  if (arm.k !== "block" || ifStmt.inBlock !== true || arm.decl === true) return renderNode(arm, src, opts);
  if (arm.n === 0) return "";
  const pad = " ".repeat(ifStmt.pad ?? 0);
  return renderBody(arm, src, opts)
    .split("\n")
    .map((l, i) => (i === 0 || l === "" ? l : pad + l))
    .join("\n");
}

function paramLiteral(call: RNode, opts: RenderOptions): string {
  if (call.bad === true || call.key === undefined) throw new CodegenError(`${call.w ?? "?"}: param() takes one string literal`);
  const key = call.key;
  if (!Object.prototype.hasOwnProperty.call(opts.params, key)) {
    throw new CodegenError(`${call.w ?? "?"}: the block instance has no parameter ${JSON.stringify(key)}`);
  }
  const value = opts.params[key]!;
  const typeArg = call.ty ?? typeof value;
  return `(${literal(value).text} as ${typeArg})`;
}

/** The statements of a function body, rendered and dedented (one string, lines joined by "\n"). */
export function renderBody(body: RNode, src: string, opts: RenderOptions): string {
  const full = renderNode(body, src, opts);
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
