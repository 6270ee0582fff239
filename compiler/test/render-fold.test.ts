/**
 * render.ts decides branches on boolean block parameters at generation time:
 * the output keeps only the taken arm, so generated code has no run-time
 * branch on configuration. Conditions with other operands are left to run
 * (they may have effects), except that a deciding parameter operand of
 * `&&`/`||` is dropped.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Project } from "ts-morph";
import { describe, expect, it } from "vitest";
import { renderTree } from "../src/codegen/library-analyze.js";
import { renderBody } from "../src/codegen/render.js";
import type { ParamValue } from "../src/codegen/types.js";

const GENERATED = join(import.meta.dirname, "../../generated");

function render(body: string, params: Record<string, ParamValue>): string {
  const project = new Project({ useInMemoryFileSystem: true });
  const f = project.createSourceFile("b.ts", `declare function param<T>(k: string): T;\ndeclare function a(): void;\ndeclare function b(): void;\ndeclare let x: boolean;\ndeclare let y: string;\nexport function h(): void {\n${body}\n}\n`);
  const fn = f.getFunctionOrThrow("h");
  return renderBody(renderTree(fn.getBodyOrThrow(), fn), f.getFullText(), { params });
}

describe("branches on boolean parameters are decided at generation time", () => {
  it("keeps the then arm, unwrapped and re-indented, or the else arm, or nothing", () => {
    const src = `  if (param<boolean>("p")) {\n    a();\n    if (x) b();\n  } else {\n    b();\n  }\n  a();`;
    expect(render(src, { p: true })).toBe("a();\nif (x) b();\na();");
    expect(render(src, { p: false })).toBe("b();\na();");
    expect(render(`  if (!param<boolean>("p")) a();\n  b();`, { p: true })).toBe("b();");
    expect(render(`  if (!param<boolean>("p")) a();\n  b();`, { p: false })).toBe("a();\nb();");
  });

  it("keeps a block whose statements declare names (their scope must not widen)", () => {
    expect(render(`  if (param<boolean>("p")) {\n    const y = 1;\n    a();\n  }`, { p: true })).toBe("{\n  const y = 1;\n  a();\n}");
  });

  it("drops a deciding operand of && and ||, and never an operand that may have effects", () => {
    expect(render(`  if (param<boolean>("p") && x) a();`, { p: true })).toBe("if (x) a();");
    expect(render(`  if (param<boolean>("p") && x) a();`, { p: false })).toBe("");
    expect(render(`  if ((param<boolean>("p") || x) && x) a();`, { p: false })).toBe("if ((x) && x) a();");
    expect(render(`  const v = x && (!param<boolean>("p") || x);`, { p: true })).toBe("const v = x && (x);");
    expect(render(`  const v = x && (!param<boolean>("p") || x);`, { p: false })).toBe("const v = x && (true);");
    // `x && P` is not decided: x runs first.
    expect(render(`  if (x && param<boolean>("p")) a();`, { p: false })).toBe("if (x && (false as boolean)) a();");
    expect(render(`  const v = param<boolean>("p") ? 1 : 2;`, { p: false })).toBe("const v = (2);");
  });

  it("folds a text or number parameter compared with a literal, and what the comparison decides", () => {
    expect(render(`  const v = param<string>("t") === "a";`, { t: "a" })).toBe("const v = true;");
    expect(render(`  const v = param<string>("t") === "a";`, { t: "b" })).toBe("const v = false;");
    expect(render(`  const v = "a" !== param<string>("t");`, { t: "a" })).toBe("const v = false;");
    expect(render(`  const v = param<number>("n") == 3;`, { n: 3 })).toBe("const v = true;");
    expect(render(`  if (param<string>("t") === "a" && x) a();\n  b();`, { t: "b" })).toBe("b();");
    expect(render(`  if (param<string>("t") === "a" && x) a();`, { t: "a" })).toBe("if (x) a();");
    expect(render(`  const v = param<string>("t") === "a" ? 1 : 2;`, { t: "a" })).toBe("const v = (1);");
    // Values of different types are not compared at generation time (\`==\` would coerce).
    expect(render(`  const v = param<number>("n") == "3";`, { n: 3 })).toBe('const v = (3 as number) == "3";');
    // A comparison with something other than a literal is left to run.
    expect(render(`  const v = param<string>("t") === y;`, { t: "a" })).toBe('const v = ("a" as string) === y;');
  });

  it("leaves no comparison of a text parameter with a literal in any checked-in protocol", () => {
    for (const d of readdirSync(GENERATED)) {
      const code = readFileSync(join(GENERATED, d, "src/index.ts"), "utf8");
      expect(code, d).not.toMatch(/\("[^"]*" as string\) *[!=]==? *"/);
    }
  });

  it("leaves no decided branch in any checked-in protocol (the modular back end renders through the same code)", () => {
    const dirs = readdirSync(GENERATED);
    expect(dirs.length).toBeGreaterThan(10);
    for (const d of dirs) {
      const code = readFileSync(join(GENERATED, d, "src/index.ts"), "utf8");
      expect(code, d).not.toMatch(/if \(!?\((true|false) as boolean\)\)|\((true|false) as boolean\) (&&|\|\|)|\((true|false) as boolean\) *\?/);
    }
  });
});
