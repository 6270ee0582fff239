/**
 * A generated module exports only its API: the protocol class and the
 * `protocol` factory (templates/package/README.md.hbs says so). Everything
 * copied from the block library (event types, tags, helpers) is
 * module-private, so a block helper never becomes part of a package's public
 * surface. Checked on the emitters' output and on every checked-in package
 * (source, its built declarations, and the module as loaded).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { emitInline } from "../src/codegen/inline.js";
import { loadLibrary } from "../src/codegen/library.js";
import { emitModular } from "../src/codegen/modular.js";
import { protocolClassName } from "../src/codegen/names.js";
import { FIXTURE_BLOCKS, input } from "./codegen/helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const GENERATED = join(ROOT, "generated");

/** The names a module's top level exports, types included (parsed, not type-checked). `*` for a re-export of a whole module. */
function exportedNames(text: string, fileName: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const names: string[] = [];
  for (const st of sf.statements) {
    if (ts.isExportDeclaration(st)) {
      if (!st.exportClause) names.push("*");
      else if (ts.isNamedExports(st.exportClause)) for (const e of st.exportClause.elements) names.push(e.name.text);
      else names.push(st.exportClause.name.text);
      continue;
    }
    if (ts.isExportAssignment(st)) {
      names.push("default");
      continue;
    }
    const mods = ts.canHaveModifiers(st) ? ts.getModifiers(st) : undefined;
    if (!mods?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
    if (mods.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword)) names.push("default");
    else if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) names.push(d.name.getText(sf));
    else if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st) || ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st) || ts.isEnumDeclaration(st)) && st.name) names.push(st.name.text);
    else names.push(`<${ts.SyntaxKind[st.kind]}>`);
  }
  return names.sort();
}

const api = (protocolName: string): string[] => [protocolClassName(protocolName).text, "protocol"].sort();

describe("exportedNames (the parser the checks below rely on)", () => {
  it("sees every kind of export, types included", () => {
    const text = "export interface I {}\nexport type T = 1;\nexport const a = 1, b = 2;\nexport function f() {}\nexport class C {}\nexport enum E { X }\nconst hidden = 1;\nexport { hidden as h };\nexport * from './x.js';\nexport default 1;\nexport {};\n";
    expect(exportedNames(text, "x.ts")).toEqual(["*", "C", "E", "I", "T", "a", "b", "default", "f", "h"]);
  });
});

describe("the emitters export only the protocol class and factory", () => {
  const lib = loadLibrary(FIXTURE_BLOCKS);
  for (const [back, emit] of [["inline", emitInline], ["modular", emitModular]] as const) {
    it(`${back}: copied library declarations are module-private`, () => {
      const out = emit(lib, input());
      expect(exportedNames(out, "index.ts")).toEqual(api("fixture-proto"));
      // The fixture's tags.ts exports KIND_APP; the copy does not.
      expect(out).toMatch(/^const KIND_APP = 1;$/m);
    });
  }
});

const packages = readdirSync(GENERATED).filter((d) => existsSync(join(GENERATED, d, "src/index.ts")));

describe("checked-in packages export only their API", () => {
  it("finds the packages", () => {
    expect(packages).toContain("family-based-causal");
  });

  for (const d of packages) {
    it(`generated/${d}/src/index.ts`, () => {
      const text = readFileSync(join(GENERATED, d, "src/index.ts"), "utf8");
      expect(exportedNames(text, "index.ts")).toEqual(api(d));
    });
  }

  const dts = join(GENERATED, "family-based-causal/dist/index.d.ts");
  // dist/ is built by `npm run build` (scripts/build-generated.ts), not checked in: absent in a checkout that was never built.
  it.skipIf(!existsSync(dts))("generated/family-based-causal/dist/index.d.ts (declaration emit needs no exported helper)", () => {
    expect(exportedNames(readFileSync(dts, "utf8"), "index.d.ts")).toEqual(api("family-based-causal"));
  });

  it("generated/family-based-causal as loaded: Object.keys of the module", async () => {
    const mod = (await import(pathToFileURL(join(GENERATED, "family-based-causal/src/index.ts")).href)) as Record<string, unknown>;
    expect(Object.keys(mod).sort()).toEqual(api("family-based-causal"));
  });
});
