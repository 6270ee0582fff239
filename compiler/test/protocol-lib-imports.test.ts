/**
 * The helpers specialization does not change live in
 * `@egida/runtime-core/protocol-lib` and generated code imports them instead
 * of carrying copies (ARCHITECTURE.md, "The block contract"): no checked-in
 * package and no modular emission declares one of its names, every one a
 * package uses is imported from the subpath, each package depends on the
 * runtime version that has the subpath, and the subpath needs nothing of
 * the block library (it imports only its own files).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { emitSource } from "../src/codegen/package.js";
import { blockLibrary } from "../src/codegen/pipeline.js";
import { regenerate } from "../src/codegen/regen.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const GENERATED = join(ROOT, "generated");
const LIB_DIR = join(ROOT, "runtime-core/src/protocol-lib");
const SPECIFIER = "@egida/runtime-core/protocol-lib";

function parse(text: string, fileName: string): ts.SourceFile {
  return ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}

/** The names the subpath's index exports (its `export { ... } from` lists, types included). */
function libNames(): Set<string> {
  const sf = parse(readFileSync(join(LIB_DIR, "index.ts"), "utf8"), "index.ts");
  const names = new Set<string>();
  for (const st of sf.statements) {
    if (ts.isExportDeclaration(st) && st.exportClause && ts.isNamedExports(st.exportClause)) for (const e of st.exportClause.elements) names.add(e.name.text);
  }
  return names;
}

/** Top-level declared names, names imported from each specifier, and every identifier used. */
function shape(text: string): { declared: Set<string>; imported: Map<string, Set<string>>; used: Set<string> } {
  const sf = parse(text, "index.ts");
  const declared = new Set<string>();
  const imported = new Map<string, Set<string>>();
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const set = imported.get(st.moduleSpecifier.text) ?? new Set<string>();
      const b = st.importClause?.namedBindings;
      if (b && ts.isNamedImports(b)) for (const e of b.elements) set.add(e.name.text);
      imported.set(st.moduleSpecifier.text, set);
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) declared.add(d.name.getText(sf));
    } else if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st) || ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) && st.name) {
      declared.add(st.name.text);
    }
  }
  const used = new Set<string>();
  const visit = (n: ts.Node): void => {
    if (ts.isIdentifier(n) && !ts.isImportSpecifier(n.parent)) used.add(n.text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return { declared, imported, used };
}

function expectImportsLib(text: string, names: ReadonlySet<string>): void {
  const { declared, imported, used } = shape(text);
  expect([...declared].filter((n) => names.has(n)), "protocol-lib names declared (copied) in generated code").toEqual([]);
  const fromLib = imported.get(SPECIFIER) ?? new Set<string>();
  const usedLib = [...used].filter((n) => names.has(n));
  expect(usedLib.length, "uses no protocol-lib helper at all").toBeGreaterThan(0);
  expect(usedLib.filter((n) => !fromLib.has(n)), "protocol-lib names used but not imported").toEqual([]);
  // Every import of the subpath is used (deps.ts imports what the closure reaches, nothing more).
  expect([...fromLib].filter((n) => !used.has(n))).toEqual([]);
}

const NAMES = libNames();
const packages = readdirSync(GENERATED).filter((d) => existsSync(join(GENERATED, d, "src/index.ts")));

describe("@egida/runtime-core/protocol-lib", () => {
  it("exports the helpers the block library imports (and the parser above sees them)", () => {
    for (const n of ["outPush", "OutLog", "Held", "InMsg", "wordsOf", "histPush", "causalAdd", "causalStable", "CDet", "CausalLog"]) expect(NAMES).toContain(n);
  });

  it("is a package subpath built to dist, and each library file imports only its siblings and Node built-ins (nothing of egida-gen, no param())", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "runtime-core/package.json"), "utf8")) as { exports: Record<string, unknown>; files: string[] };
    expect(pkg.exports["./protocol-lib"]).toEqual({ types: "./dist/protocol-lib/index.d.ts", default: "./dist/protocol-lib/index.js" });
    expect(pkg.files).toContain("dist");
    for (const f of readdirSync(LIB_DIR).filter((e) => e.endsWith(".ts"))) {
      const text = readFileSync(join(LIB_DIR, f), "utf8");
      const specs = parse(text, f).statements.filter(ts.isImportDeclaration).map((st) => (st.moduleSpecifier as ts.StringLiteral).text);
      expect(specs.filter((s) => !/^\.\/[\w-]+\.js$/.test(s) && !/^node:\w+$/.test(s)), f).toEqual([]);
      expect(text, f).not.toMatch(/\bparam\s*[<(]/);
    }
  });

  it("finds the packages", () => {
    expect(packages).toContain("family-based-causal");
  });

  for (const d of packages) {
    it(`generated/${d}: imports the helpers, copies none, and depends on the runtime version that has them`, () => {
      expectImportsLib(readFileSync(join(GENERATED, d, "src/index.ts"), "utf8"), NAMES);
      const pkg = JSON.parse(readFileSync(join(GENERATED, d, "package.json"), "utf8")) as { dependencies: Record<string, string> };
      const runtime = JSON.parse(readFileSync(join(ROOT, "runtime-core/package.json"), "utf8")) as { version: string };
      expect(pkg.dependencies["@egida/runtime-core"]).toBe(runtime.version);
    });
  }

  it("the modular back end imports them too (a causal and an optimistic protocol)", async () => {
    const regen = await regenerate(ROOT);
    const lib = blockLibrary();
    const picked = regen.packages.filter((p) => ["family-based-causal", "fig3a-damani-garg"].includes(p.input.checked.ir.name));
    expect(picked).toHaveLength(2);
    for (const p of picked) {
      const text = emitSource(lib, p.input, "modular");
      expect(text).toMatch(/class \w+ModuleImpl/);
      expectImportsLib(text, NAMES);
    }
  });
});
