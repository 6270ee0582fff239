/**
 * The code layer (after ajv's `lib/compile/codegen/code.ts`): generated text
 * is built only from `Code` values. A plain string cannot be interpolated into
 * `_`; it must go through `str` (a quoted literal), `name` (a validated
 * identifier) or `comment` (a single-line comment). So a spec name or spec
 * text with quotes, backticks, `${`, `*\/`, newlines or U+2028 can never
 * escape into code.
 */

/** A piece of TypeScript source that is safe to splice. */
export class Code {
  /** Only this module constructs Code from raw text. */
  protected constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
  /** @internal: for the few places that take vetted text (block bodies from the type-checked block files). */
  static trusted(text: string): Code {
    return new Code(text);
  }
}

/** An identifier that passed `name()`. */
export class Name extends Code {
  private readonly brand = "Name";
  static of(text: string): Name {
    return new Name(text);
  }
}

export type CodeArg = Code | number | boolean | null | undefined | readonly Code[];

function argText(v: CodeArg): string {
  if (v instanceof Code) return v.text;
  if (Array.isArray(v)) return v.map((c: Code) => c.text).join("");
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return numberLiteral(v);
  // A raw string got here through a cast: refuse rather than splice it.
  throw new CodegenError(`refusing to interpolate a raw ${typeof v} into code; use str() or name()`);
}

/** Tagged template: `_\`const ${name("x")} = ${str(spec)};\``. */
export function _(strings: TemplateStringsArray, ...values: CodeArg[]): Code {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += argText(v) + (strings[i + 1] ?? "");
  });
  return Code.trusted(out);
}

/** Join code pieces with a separator (itself code). */
export function join(parts: readonly Code[], sep: Code = _`, `): Code {
  return Code.trusted(parts.map((p) => p.text).join(sep.text));
}

/** Thrown for generator bugs and contract violations: never for user spec errors. */
export class CodegenError extends Error {
  override readonly name = "CodegenError";
}

/**
 * A string literal. JSON.stringify escapes quotes, backslashes and control
 * characters; U+2028/U+2029 are valid in JSON but were line terminators in
 * older JS and break `//` comments when echoed, so escape them too. Lone
 * surrogates are escaped by JSON.stringify (well-formed stringify, ES2019).
 */
export function str(x: string): Code {
  if (typeof x !== "string") throw new CodegenError(`str() expects a string, got ${typeof x}`);
  return Code.trusted(JSON.stringify(x).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029"));
}

export function numberLiteral(n: number): string {
  if (!Number.isFinite(n)) throw new CodegenError(`cannot emit non-finite number ${String(n)}`);
  // Negative literals are unary expressions: parenthesise so `a - ${n}` stays sound.
  return n < 0 || Object.is(n, -0) ? `(${String(n)})` : String(n);
}

/** A number, string or boolean literal. */
export function literal(v: number | string | boolean): Code {
  if (typeof v === "string") return str(v);
  if (typeof v === "number") return Code.trusted(numberLiteral(v));
  if (typeof v === "boolean") return Code.trusted(v ? "true" : "false");
  throw new CodegenError(`cannot emit a literal of type ${typeof v}`);
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** ES reserved words plus strict-mode and TypeScript names that cannot be a binding. */
const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "yield let static implements interface package private protected public await " +
    "arguments eval undefined NaN Infinity any boolean never number object string symbol unknown bigint"
  ).split(" "),
);

export function isValidName(x: string): boolean {
  return IDENT.test(x) && !RESERVED.has(x);
}

/** A validated identifier. */
export function name(x: string): Name {
  if (typeof x !== "string" || !isValidName(x)) throw new CodegenError(`invalid identifier in generated code: ${JSON.stringify(x)}`);
  return Name.of(x);
}

/** Characters that end a line in JS source (and CR LF). */
const LINE_BREAKS = /\r\n|[\n\r\u2028\u2029\u0085]/g;

/** Text made safe for any comment: one line, no `*\/`. */
export function commentText(text: string): string {
  return text
    .replace(LINE_BREAKS, " ")
    // Other C0/C1 controls would be invisible in the output; show them escaped.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .replace(/\*\//g, "* /");
}

/** A `// text` comment on one line. */
export function comment(text: string): Code {
  return Code.trusted(`// ${commentText(text)}`);
}

/** `// spec L:C "line text"`: the spec line is quoted with str() semantics inside the comment. */
export function specComment(line: number, column: number, lineText: string): Code {
  return comment(`spec ${line}:${column} ${str(lineText.trim()).text}`);
}

/** PascalCase stem from a kebab/snake/space name, validated. `fig3a-damani-garg` → `Fig3aDamaniGarg`. */
export function pascal(x: string): Name {
  const stem = x
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p.length > 0)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join("");
  const id = /^[0-9]/.test(stem) ? `P${stem}` : stem;
  return name(id.length > 0 ? id : "Unnamed");
}
