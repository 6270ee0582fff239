/**
 * Which generated protocols the real-process tests run, and a fast-loading
 * copy of each.
 *
 * "Crash-proven" is read from the status table of docs/protocols.md (a row
 * naming `<name>.egida` and saying **crash-proven**, not qualified "in the
 * simulation"), intersected with the
 * packages in generated/: when another family is proven and documented, the
 * real-process tests and campaign pick it up. `EGIDA_REALPROC_PROTOCOLS`
 * (comma-separated names) overrides the list.
 *
 * Why a copy: generated packages are checked in as TypeScript sources only,
 * and egida-run then loads them through tsx in every rank process, which costs
 * seconds per (re)start. We transpile the single-file package once per source
 * hash into node_modules/.cache (TypeScript's transpileModule: no type check,
 * the build and the golden test do that) and launch that directory instead.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { ROOT } from "./paths.js";

/**
 * Crash-proven in the simulation and on the real host, but with an open
 * real-process finding: kept out of the real-process tests (not out of the
 * simulated campaign) until it is understood, so CI stays a signal.
 */
const REAL_PROCESS_OPEN: Readonly<Record<string, string>> = {
  "family-based-causal":
    "one real-campaign run (writer app, seed 1: `npx tsx scripts/real-campaign.ts --protocol family-based-causal --app writer --runs 1 --seed 1`) did not finish within 60 s with at most f ranks down; it has not reproduced since",
};

export function crashProvenProtocols(): string[] {
  const env = process.env["EGIDA_REALPROC_PROTOCOLS"];
  if (env !== undefined && env.trim() !== "") return env.split(",").map((s) => s.trim());
  const doc = readFileSync(join(ROOT, "docs/protocols.md"), "utf8");
  const proven = new Set<string>();
  for (const line of doc.split("\n")) {
    // "**crash-proven** in the simulation" (not yet on the real host / TCP) does not count.
    if (!line.startsWith("|") || !/\*\*crash-proven\*\*(?! in the simulation)/.test(line)) continue;
    for (const m of line.matchAll(/`([\w-]+)\.egida`/g)) proven.add(m[1]!);
  }
  const dirs = readdirSync(join(ROOT, "generated"), { withFileTypes: true });
  return dirs
    .filter((d) => d.isDirectory() && proven.has(d.name) && REAL_PROCESS_OPEN[d.name] === undefined && existsSync(join(ROOT, "generated", d.name, "src/index.ts")))
    .map((d) => d.name)
    .sort();
}

/** A directory egida-run can load without tsx: `dist/index.js` transpiled from generated/<name>/src/index.ts. */
export function builtProtocol(name: string): string {
  const pkgDir = join(ROOT, "generated", name);
  const src = readFileSync(join(pkgDir, "src/index.ts"), "utf8");
  const hash = createHash("sha256").update(src).digest("hex").slice(0, 12);
  const dir = join(ROOT, "node_modules/.cache/egida-realproc", `${name}-${hash}`);
  if (existsSync(join(dir, "dist/index.js"))) return dir;
  const out = ts.transpileModule(src, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    fileName: "index.ts",
  });
  // Build in a temp dir and rename: concurrent test files may build the same package.
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(join(tmp, "dist"), { recursive: true });
  writeFileSync(join(tmp, "package.json"), readFileSync(join(pkgDir, "package.json")));
  writeFileSync(join(tmp, "dist/index.js"), out.outputText);
  try {
    renameSync(tmp, dir);
  } catch {
    // Another process won the race; its copy is identical.
  }
  return dir;
}
