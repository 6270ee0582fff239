import { describe, expect, it } from "vitest";
import { renderDiagnostic, renderDiagnostics } from "../src/diagnostics/render.js";
import { editDistance, suggest } from "../src/diagnostics/suggest.js";
import type { Diagnostic } from "../src/diagnostics/types.js";
import { parseSpec } from "../src/frontend.js";
import { builtinRegistry } from "../src/registry/builtin-registry.js";

const registry = builtinRegistry();

describe("renderDiagnostic", () => {
  const source = "receive: determinant : {source, sesn, dest, desn}\nLog determinant, data asynchronously on NFS disc\n";
  const d = parseSpec(source, "spec.egida", registry).diagnostics[0]!;
  it("file:line:col, source line, caret under the span, hint", () => {
    expect(renderDiagnostic(d, source, { color: false })).toBe(
      [
        "spec.egida:2:41: error: unknown storage `NFS disc`; known values: `local disk`, `NFS disk`, `volatile memory of self`, `volatile memory of processes` [E-unknown-value]",
        "Log determinant, data asynchronously on NFS disc",
        " ".repeat(40) + "^~~~~~~~",
        "hint: did you mean `NFS disk`?",
      ].join("\n"),
    );
  });
  it("colour only when asked", () => {
    expect(renderDiagnostic(d, source, { color: false })).not.toContain("\u001b[");
    // picocolors may disable colours in a non-TTY; createColors(true) is what render uses when color is set.
    const colored = renderDiagnostic(d, source, { color: true });
    expect(colored.replace(/\u001b\[[0-9;]*m/g, "")).toBe(renderDiagnostic(d, source, { color: false }));
  });
  it("without source: header and hint only", () => {
    expect(renderDiagnostic(d, null, { color: false }).split("\n")).toHaveLength(2);
  });
  it("warnings, zero-width spans, tabs, spans that run past the line", () => {
    const w: Diagnostic = { severity: "warning", code: "W-x", message: "m", file: "f", loc: { line: 1, column: 3, offset: 2, endOffset: 2 } };
    expect(renderDiagnostic(w, "\tab", { color: false })).toBe("f:1:3: warning: m [W-x]\n\tab\n\t ^");
    const long: Diagnostic = { ...w, severity: "error", loc: { line: 1, column: 1, offset: 0, endOffset: 50 } };
    expect(renderDiagnostic(long, "abc\ndef", { color: false }).split("\n")[2]).toBe("^~~");
  });
  it("diagnostics with a JSON pointer and no location", () => {
    const p: Diagnostic = { severity: "error", code: "E-schema", message: "bad", file: "x.json", path: "/options/f" };
    expect(renderDiagnostic(p, "{}", { color: false })).toBe("x.json: error: bad (at /options/f) [E-schema]");
  });
  it("very long lines are windowed around the span; control characters are masked", () => {
    const text = "x".repeat(5000) + "\u0000" + "y".repeat(5000);
    const e: Diagnostic = { severity: "error", code: "E", message: "m", file: "f", loc: { line: 1, column: 5001, offset: 5000, endOffset: 5001 } };
    const [, line, caret] = renderDiagnostic(e, text, { color: false }).split("\n");
    expect(line!.length).toBeLessThan(130);
    expect(line).toContain("?");
    expect(line![caret!.indexOf("^")]).toBe("?");
  });
  it("renderDiagnostics joins with blank lines", () => {
    const ds = parseSpec("send: Log mesage synchronosly on NFS disc", "s.egida", registry).diagnostics;
    expect(renderDiagnostics(ds, "send: Log mesage synchronosly on NFS disc", { color: false }).split("\n\n")).toHaveLength(3);
  });
});

describe("suggest (did you mean)", () => {
  it("Damerau-Levenshtein distance", () => {
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("recieve", "receive")).toBe(1);
    expect(editDistance("abc", "abc")).toBe(0);
  });
  it("suggests close matches only, case-insensitively", () => {
    expect(suggest("NFS DISC", ["local disk", "NFS disk"])).toBe("NFS disk");
    expect(suggest("cordinated", ["independent", "co-ordinated", "coordinated"])).toBe("coordinated");
    expect(suggest("zzz", ["full", "incremental"])).toBeUndefined();
    expect(suggest("", ["a"])).toBeUndefined();
    expect(suggest("x".repeat(500), ["x"])).toBeUndefined();
  });
});
