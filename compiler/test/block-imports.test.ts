/**
 * The block library's import graph (compiler/src/blocks) is acyclic, type
 * imports included, and a block sees only the fields of the blocks it
 * declares it uses: its `type K = Kernel & Fields & ...` (ARCHITECTURE.md,
 * "The block contract").
 */
import { createRequire } from "node:module";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, posix, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

type Ts = typeof import("typescript");
const ts = createRequire(import.meta.url)("typescript") as Ts;

const BLOCKS = resolve(dirname(fileURLToPath(import.meta.url)), "../src/blocks");

/** Every `.ts` file under `dir`, relative to it with `/` separators → its text. */
function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts")) out.set(relative(dir, p).split(sep).join("/"), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out;
}

/**
 * The relative module specifiers of a file: import and export-from
 * declarations (type-only ones too), `import("...")` types and calls, and
 * `import x = require("...")`.
 */
function specifiers(path: string, text: string): string[] {
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (n: import("typescript").Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) out.push(n.moduleSpecifier.text);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) out.push(n.argument.literal.text);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) out.push(n.arguments[0].text);
    else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference) && ts.isStringLiteral(n.moduleReference.expression)) out.push(n.moduleReference.expression.text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** The import graph among `files` (relative path → text): edges to files of the set only (`./x.js` names `x.ts`). */
function importGraph(files: ReadonlyMap<string, string>): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const [path, text] of files) {
    const deps = new Set<string>();
    for (const spec of specifiers(path, text)) {
      if (!spec.startsWith(".")) continue;
      const target = posix.normalize(posix.join(posix.dirname(path), spec)).replace(/\.js$/, ".ts");
      if (files.has(target)) deps.add(target);
    }
    g.set(path, [...deps].sort());
  }
  return g;
}

/** One cycle of `g` as a path `a -> b -> ... -> a`, or undefined when it is acyclic. */
function findCycle(g: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const dfs = (v: string): string[] | undefined => {
    state.set(v, "open");
    stack.push(v);
    for (const w of g.get(v) ?? []) {
      const s = state.get(w);
      if (s === "open") return [...stack.slice(stack.indexOf(w)), w];
      if (s === undefined) {
        const c = dfs(w);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(v, "done");
    return undefined;
  };
  for (const v of [...g.keys()].sort()) {
    if (state.has(v)) continue;
    const c = dfs(v);
    if (c) return c;
  }
  return undefined;
}

describe("the block library's import graph", () => {
  const files = readTree(BLOCKS);
  const g = importGraph(files);

  it("is acyclic (type imports included)", () => {
    expect(files.size).toBeGreaterThan(40);
    const cycle = findCycle(g);
    expect(cycle?.join(" -> "), "import cycle in compiler/src/blocks").toBeUndefined();
  });

  it("hooks.ts (Kernel) imports no library file, kernel.ts no block but core/ssn (its words helper comes from @egida/runtime-core/protocol-lib), and no block imports kernel.ts", () => {
    expect(g.get("hooks.ts")).toEqual([]);
    expect(g.get("kernel.ts")).toEqual(["core/ssn.ts", "hooks.ts"]);
    // Only the composer's tables know every block (and so the kernel's SPI functions).
    const importers = [...g].filter(([, deps]) => deps.includes("kernel.ts")).map(([f]) => f);
    expect(importers.sort()).toEqual(["compose.ts", "index.ts"]);
  });

  it("the cycle finder reports a cycle through type-only imports and export-from, as a path", () => {
    const cyclic = new Map([
      ["a.ts", 'import type { B } from "./sub/b.js";\nexport const a = 1;\n'],
      ["sub/b.ts", 'export { c } from "../c.js";\nexport type B = number;\n'],
      ["c.ts", 'export const c: import("./a.js").A = 1;\n'],
      ["d.ts", 'import { a } from "./a.js";\n'],
    ]);
    expect(findCycle(importGraph(cyclic))).toEqual(["a.ts", "sub/b.ts", "c.ts", "a.ts"]);
    cyclic.set("c.ts", "export const c = 1;\n");
    expect(findCycle(importGraph(cyclic))).toBeUndefined();
  });
});

describe("a block sees only the fields of the blocks it declares", () => {
  /** Type-check one extra file at `compiler/src/blocks/<path>` with the workspace's compiler options; its diagnostics. */
  function check(path: string, text: string): string[] {
    const configPath = resolve(BLOCKS, "../../tsconfig.json");
    const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    if (!parsed) throw new Error(`cannot read ${configPath}`);
    const probe = join(BLOCKS, path);
    const host = ts.createCompilerHost({ ...parsed.options, noEmit: true });
    const { getSourceFile, fileExists, readFile } = host;
    host.fileExists = (f) => f === probe || fileExists.call(host, f);
    host.readFile = (f) => (f === probe ? text : readFile.call(host, f));
    host.getSourceFile = (f, lang, onError, create) => (f === probe ? ts.createSourceFile(f, text, lang) : getSourceFile.call(host, f, lang, onError, create));
    const program = ts.createProgram([probe], { ...parsed.options, noEmit: true, composite: false, incremental: false }, host);
    const sf = program.getSourceFile(probe)!;
    return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  }

  const probe = (body: string): string => `import type { Kernel, PumpEv } from "../hooks.js";
import type { Fields as CoreReceive } from "./receive.js";

type K = Kernel & Fields & CoreReceive;

export interface Fields {
  probeCount: number;
}

export function onPump(s: K, _ev: PumpEv): void {
  ${body}
}
`;

  it("its own fields, the declared block's fields, the host and the hook chains type-check", () => {
    expect(check("core/probe-uses.ts", probe("s.probeCount += s.delivered[0]! + s.rsn + s.host.size;\n  s.onPump({ reason: 0 });"))).toEqual([]);
  }, 60_000);

  it("a field of a block it does not declare (log/event-log's evLog) does not", () => {
    const errors = check("core/probe-uses.ts", probe("s.probeCount = s.evLog === null ? 0 : 1;"));
    expect(errors.join("\n")).toMatch(/Property 'evLog' does not exist on type/);
  }, 60_000);
});
