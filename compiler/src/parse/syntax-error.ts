/**
 * Peggy's syntax errors → readable diagnostics: "expected X, found Y" naming
 * the whole offending token, plus a hint for the common mistakes.
 */
import type { Diagnostic } from "../diagnostics/types.js";
import type { SourceSpan } from "../ir/types.js";
import type { Expectation, SyntaxError as PeggySyntaxError } from "./parser.generated.js";

/** Expectations that are noise in a message: layout is allowed almost everywhere. */
const NOISE = new Set(["whitespace", "`/*`", "`//`"]);

function describe(e: Expectation): string {
  switch (e.type) {
    case "literal":
      return `\`${e.text}\``;
    case "other":
      return e.description;
    case "end":
      return "end of input";
    case "any":
      return "any character";
    case "class":
      return "a character";
  }
}

function oxford(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? "nothing";
  if (items.length === 2) return `${items[0]} or ${items[1]}`;
  return `${items.slice(0, -1).join(", ")}, or ${items[items.length - 1]}`;
}

/** The token at `offset`: a whole word, a run of digits, or one (escaped) character. */
function tokenAt(text: string, offset: number): { shown: string; length: number } {
  if (offset >= text.length) return { shown: "end of input", length: 0 };
  const word = /^[A-Za-z0-9_][A-Za-z0-9_-]*/.exec(text.slice(offset, offset + 80));
  if (word) return { shown: `\`${word[0]}\``, length: word[0].length };
  const cp = text.codePointAt(offset) ?? 0;
  const ch = String.fromCodePoint(cp);
  const printable = cp >= 0x20 && cp !== 0x7f && !(cp >= 0x80 && cp < 0xa0) && cp !== 0xfffd;
  const shown = printable ? `\`${ch}\`` : `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  return { shown: cp === 10 ? "end of line" : shown, length: ch.length };
}

function hintFor(expected: readonly string[], found: string): string {
  const isWord = /^`[A-Za-z]/.test(found);
  if (expected.includes("`determinant`") && expected.includes("`piggyback`"))
    return "after `<event> :` write `determinant : {...}`, `Piggyback ...` or `Log ...`";
  if (expected.includes("`:`"))
    return "statements about an event start `<event> :`, e.g. `send: Piggyback vector clock`";
  if (expected.includes("`}`") || expected.includes("`{`"))
    return "a determinant structure is written `{source, sesn, dest, desn}`";
  if (expected.includes("integer") || expected.some((e) => e.startsWith("duration")))
    return "options are written `protocol NAME ( f = 2, checkpoint every 5s, flush every 100ms )`";
  if (isWord && expected.includes("`,`"))
    return "separate list items with commas, e.g. `Log determinant, message synchronously on NFS disk`";
  if (!isWord && found !== "end of input" && (expected.includes("word") || expected.includes("value")))
    return "values are plain words (letters, digits, inner `-`), e.g. `NFS disk`, `co-ordinated`";
  if (found === "end of input") return "the spec ends in the middle of a statement";
  return "see the statement forms of the Egida paper's Figure 1 (egida-language.md)";
}

export function syntaxErrorToDiagnostic(err: PeggySyntaxError, text: string, file: string): Diagnostic {
  const start = err.location.start;
  if (!err.expected) {
    // Raised by the grammar's own `error()` (e.g. an unterminated comment).
    const loc: SourceSpan = { line: start.line, column: start.column, offset: start.offset, endOffset: err.location.end.offset };
    const hint = err.message.startsWith("unterminated comment") ? "close the comment with `*/`" : undefined;
    return { severity: "error", code: "E-syntax", message: err.message, file, loc, ...(hint ? { hint } : {}) };
  }
  const expected = [...new Set(err.expected.map(describe))].filter((d) => !NOISE.has(d)).sort();
  const token = tokenAt(text, start.offset);
  const loc: SourceSpan = {
    line: start.line,
    column: start.column,
    offset: start.offset,
    endOffset: start.offset + token.length,
  };
  return {
    severity: "error",
    code: "E-syntax",
    message: `expected ${oxford(expected)}, found ${token.shown}`,
    file,
    loc,
    hint: hintFor(expected, token.shown),
  };
}
