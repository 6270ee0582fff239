/**
 * Diagnostics as text, in the compiler style editors understand:
 *
 *   spec.egida:3:41: error: unknown storage `NFS disc`; known values: ... [E-unknown-value]
 *   Log determinant, data asynchronously on NFS disc
 *                                           ^~~~~~~~
 *   hint: did you mean `NFS disk`?
 */
import pc from "picocolors";
import type { Diagnostic } from "./types.js";

export interface RenderOptions {
  readonly color: boolean;
}

/** Longest stretch of a source line shown; longer lines are windowed around the span. */
const MAX_LINE = 120;

function lineAt(source: string, offset: number): { text: string; start: number } {
  const start = source.lastIndexOf("\n", Math.max(0, offset - 1)) + 1;
  const clampedStart = offset === 0 ? 0 : start;
  let end = source.indexOf("\n", clampedStart);
  if (end < 0) end = source.length;
  let text = source.slice(clampedStart, end);
  if (text.endsWith("\r")) text = text.slice(0, -1);
  return { text, start: clampedStart };
}

/** Control characters would garble a terminal; show them as `?` (one column, so carets stay aligned). */
const printable = (s: string): string => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "?");

export function renderDiagnostic(d: Diagnostic, source: string | null, opts: RenderOptions): string {
  const c = opts.color ? pc : pc.createColors(false);
  const where = d.loc ? `${d.file}:${d.loc.line}:${d.loc.column}` : d.file;
  const sev = d.severity === "error" ? c.red(c.bold("error")) : c.yellow(c.bold("warning"));
  const at = !d.loc && d.path !== undefined ? ` (at ${d.path === "" ? "/" : d.path})` : "";
  const out = [`${c.bold(where)}: ${sev}: ${c.bold(d.message)}${at} ${c.dim(`[${d.code}]`)}`];

  if (d.loc && source !== null && d.loc.offset <= source.length) {
    const { text, start } = lineAt(source, d.loc.offset);
    const col = d.loc.offset - start;
    const spanLen = Math.max(1, Math.min(d.loc.endOffset, start + text.length) - d.loc.offset);
    // Window very long lines (a whole spec on one line, a minified file) around the span.
    let from = 0;
    let to = text.length;
    if (text.length > MAX_LINE) {
      from = Math.max(0, col - 40);
      to = Math.min(text.length, from + MAX_LINE);
    }
    const shown = (from > 0 ? "…" : "") + printable(text.slice(from, to)) + (to < text.length ? "…" : "");
    const pad = (from > 0 ? " " : "") + text.slice(from, col).replace(/[^\t]/g, " ");
    const width = Math.max(1, Math.min(spanLen, to - col));
    out.push(shown);
    out.push(pad + c.green("^" + "~".repeat(width - 1)));
  }
  if (d.hint) out.push(`${c.cyan(c.bold("hint"))}: ${d.hint}`);
  return out.join("\n");
}

/** Several diagnostics, in the order given, separated by blank lines. */
export function renderDiagnostics(ds: readonly Diagnostic[], source: string | null, opts: RenderOptions): string {
  return ds.map((d) => renderDiagnostic(d, source, opts)).join("\n\n");
}
