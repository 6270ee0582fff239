/**
 * Which generated protocols the real-process tests run, with their family
 * (which oracle and kill policy applies), and a fast-loading copy of each.
 *
 * The list is the conformance campaign's CRASH_PROVEN (test/conformance/
 * protocols.ts: protocols clean in the simulated campaign) intersected with
 * the packages in generated/; family and f come from the spec each package
 * was generated from (its header names it), classified by the compiler, as
 * the conformance campaign does. `EGIDA_REALPROC_PROTOCOLS` (comma-separated
 * names) narrows the list.
 *
 * Why a copy: generated packages are checked in as TypeScript sources only,
 * and egida-run then loads them through tsx in every rank process, which costs
 * seconds per (re)start. We transpile the single-file package once per source
 * hash into node_modules/.cache (TypeScript's transpileModule: no type check,
 * the build and the golden test do that) and launch that directory instead.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import type { Family } from "../../conformance/oracles.js";
import { compilePlugin } from "../../conformance/plugin-protocols.js";
import { CRASH_PROVEN, discoverProtocols } from "../../conformance/protocols.js";
import { emitSource } from "../../../compiler/src/codegen/package.js";
import { blockLibrary, emitInputFor } from "../../../compiler/src/codegen/pipeline.js";
import { loadRegistry, parseSpec } from "../../../compiler/src/frontend.js";
import type { CheckedProtocol, ProtocolOptions } from "../../../compiler/src/ir/types.js";
import { classify } from "../../../compiler/src/passes/classify.js";
import { ROOT } from "./paths.js";

export interface RealProtocol {
  readonly name: string;
  readonly family: Family;
  /** The spec's f (concurrent failures tolerated; causal logging and replicated logs depend on it). */
  readonly f: number;
  /** Determinants kept in peers' memory (Fig 4b): an origin and its replicas must not be down together. */
  readonly replicatedLog: boolean;
  /** A package compiled from a plugin directory (`--plugin`): where it is built, and the directory as given. Absent: generated/<name>. */
  readonly plugin?: { readonly dir: string; readonly arg: string };
}

/** A plugin directory's protocol, compiled with `egida-gen compile` as a user does (test/conformance/plugin-protocols.ts). */
export async function pluginProtocol(arg: string): Promise<RealProtocol> {
  const c = await compilePlugin(arg);
  return { name: c.name, family: c.family, f: c.f, replicatedLog: c.source.includes("volatile-memory-of-processes"), plugin: { dir: c.dir, arg: c.plugin } };
}

/** The directory egida-run loads for `p`. */
export function protocolDir(p: RealProtocol): string {
  return p.plugin?.dir ?? builtProtocol(p.name);
}

let found: Promise<RealProtocol[]> | null = null;

export function realProtocols(): Promise<RealProtocol[]> {
  found ??= discover();
  return found;
}

async function discover(): Promise<RealProtocol[]> {
  const env = process.env["EGIDA_REALPROC_PROTOCOLS"];
  const only = env !== undefined && env.trim() !== "" ? env.split(",").map((s) => s.trim()) : null;
  const { protocols } = await discoverProtocols({ backends: ["generated"] });
  return protocols
    .filter((p) => CRASH_PROVEN.includes(p.name) && (only === null || only.includes(p.name)))
    .map((p) => ({
      name: p.name,
      family: p.family,
      f: p.f,
      replicatedLog: readFileSync(join(ROOT, "generated", p.name, "src/index.ts"), "utf8").includes("volatile-memory-of-processes"),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Which ranks one run may kill:
 *  - a replicated log (Fig 4b, f = its default): pairwise non-adjacent ranks,
 *    so an origin and its replica are never down together;
 *  - causal logging (tolerates f concurrent failures; a rank's determinants
 *    live only in the others' memory): at most f distinct ranks per run;
 *  - stable storage (pessimistic logging on disk, checkpoints, optimistic
 *    logging's flushed log and checkpoints): any ranks, together.
 */
export function killPolicy(p: RealProtocol): { f: number; maxRanks?: number } {
  if (p.replicatedLog) return { f: p.f };
  if (p.family === "causal") return { f: 0, maxRanks: Math.max(1, p.f) };
  return { f: 0 };
}

/** A directory egida-run can load without tsx: `dist/index.js` transpiled from generated/<name>/src/index.ts. */
export function builtProtocol(name: string): string {
  return buildDir(name, readFileSync(join(ROOT, "generated", name, "src/index.ts"), "utf8"));
}

/**
 * Like builtProtocol, but the package's spec (its header names it) emitted
 * inline with `options` over the spec's own: e.g. a checkpoint period longer
 * than the run, so that a test's kill lands before any log truncation however
 * loaded the machine is.
 */
export async function builtVariant(name: string, options: Partial<ProtocolOptions>): Promise<string> {
  const header = readFileSync(join(ROOT, "generated", name, "src/index.ts"), "utf8").slice(0, 300);
  const spec = /from (specs\/[^\s]+\.egida)/.exec(header)?.[1];
  if (spec === undefined) throw new Error(`generated/${name}: its header names no spec`);
  const text = readFileSync(join(ROOT, spec), "utf8");
  const { registry } = await loadRegistry(join(ROOT, "specs"));
  const parsed = parseSpec(text, spec, registry);
  if (parsed.ir === null) throw new Error(`${spec} does not parse`);
  const ir = { ...parsed.ir, options: { ...parsed.ir.options, ...options } };
  const checked: CheckedProtocol = { ir, classification: classify(ir, registry) };
  return buildDir(name, emitSource(blockLibrary(), emitInputFor(checked, text, spec), "inline"));
}

function buildDir(name: string, src: string): string {
  const pkgDir = join(ROOT, "generated", name);
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
