/**
 * Parse pass: spec text (or bytes) → syntax tree, or located diagnostics.
 * Never throws: every failure, including ones we did not foresee, becomes a
 * diagnostic.
 */
import type { Diagnostic } from "../diagnostics/types.js";
import type { SpecAst } from "./ast.js";
import { decodeSpec } from "./decode.js";
import { parse as peggyParse, SyntaxError as PeggySyntaxError } from "./parser.generated.js";
import { syntaxErrorToDiagnostic } from "./syntax-error.js";

export interface ParseResult {
  readonly ast: SpecAst | null;
  /** The decoded text (null when the input could not be decoded). */
  readonly text: string | null;
  readonly diagnostics: readonly Diagnostic[];
}

export function parse(input: string | Uint8Array, file: string): ParseResult {
  const decoded = decodeSpec(input, file);
  if (!decoded.ok) return { ast: null, text: null, diagnostics: [decoded.diagnostic] };
  return parseText(decoded.text, file);
}

/** Already decoded text (the pipeline's decode pass) → syntax tree. */
export function parseText(text: string, file: string): ParseResult {
  try {
    const ast = peggyParse(text, { grammarSource: file }) as SpecAst;
    return { ast, text, diagnostics: [] };
  } catch (err: unknown) {
    if (err instanceof PeggySyntaxError) {
      return { ast: null, text, diagnostics: [syntaxErrorToDiagnostic(err, text, file)] };
    }
    // Defensive: the grammar is loop-based, but a parser bug must still be a diagnostic.
    const message = err instanceof Error ? err.message : String(err);
    return {
      ast: null,
      text,
      diagnostics: [
        {
          severity: "error",
          code: "E-internal",
          message: `internal parser error: ${message}`,
          file,
          loc: { line: 1, column: 1, offset: 0, endOffset: 0 },
          hint: "please report this spec to the egida maintainers",
        },
      ],
    };
  }
}
