/** The code layer: quoting, identifiers, comments. Untrusted text must never become code. */
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { _, CodegenError, comment, literal, name, pascal, specComment, str, type Code } from "../src/codegen/code.js";

const NASTY = ['a"b', "a'b", "`x`", "${process.exit(1)}", "*/ evil() /*", "line\nbreak", "cr\rlf", "ls\u2028ps\u2029", "</script>", "\\", "\u0000nul", "\ud800lone"];

describe("str", () => {
  it.each(NASTY)("quotes %j so that evaluating the literal gives it back", (s) => {
    const code = str(s).text;
    expect(code).not.toMatch(/[\n\r\u2028\u2029]/);
    expect(runInNewContext(code)).toBe(s);
  });

  it("round-trips any string (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const code = str(s).text;
        return !/[\n\r\u2028\u2029]/.test(code) && runInNewContext(code) === s;
      }),
      { numRuns: 500 },
    );
  });
});

describe("name", () => {
  it.each(["s", "ev", "Fig3aProtocol", "$x", "_y"])("accepts %j", (n) => {
    expect(name(n).text).toBe(n);
  });
  it.each(["", "1a", "a-b", "a b", "class", "await", "this", "a\u2028", "a;b", "constructor(){}"])("rejects %j", (n) => {
    expect(() => name(n)).toThrow(CodegenError);
  });
  it("pascal makes a valid identifier from any text", () => {
    fc.assert(fc.property(fc.string(), (s) => /^[A-Za-z_$][\w$]*$/.test(pascal(s).text)));
    expect(pascal("fig3a-damani-garg").text).toBe("Fig3aDamaniGarg");
    expect(pascal("4b-f-replicated").text).toBe("P4bFReplicated");
  });
});

describe("comment", () => {
  it.each(NASTY)("keeps %j on one line without closing a block comment", (s) => {
    const c = comment(s).text;
    expect(c.startsWith("// ")).toBe(true);
    expect(c).not.toMatch(/[\n\r\u2028\u2029\u0085]/);
    expect(c).not.toContain("*/");
  });
  it("spec comments quote the line", () => {
    expect(specComment(2, 1, 'Log "x" */ \u2028 y').text).toBe('// spec 2:1 "Log \\"x\\" * / \\u2028 y"');
  });
});

describe("_ template", () => {
  it("splices Code, numbers and booleans", () => {
    expect(_`const ${name("x")} = ${literal(-1)} + ${2} && ${true};`.text).toBe("const x = (-1) + 2 && true;");
  });
  it("refuses raw strings", () => {
    const raw = "evil()" as unknown as Code;
    expect(() => _`f(${raw})`).toThrow(CodegenError);
  });
  it("refuses non-finite numbers", () => {
    expect(() => literal(Number.NaN)).toThrow(CodegenError);
  });
});
