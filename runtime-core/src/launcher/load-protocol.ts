/**
 * Resolve `--protocol` to a ProtocolFactory.
 *
 *  - `none`: the built-in baseline.
 *  - a directory (a generated protocol package): its package.json `exports`
 *    (".", conditions import > default) or `main` names the entry; the
 *    factory is the default export or the named export `protocol`. When the
 *    entry is missing but `src/index.ts` exists (generated, not yet built),
 *    src/index.ts is imported through tsx instead of running a build: no
 *    compiler run on every launch, no writes into the package directory, and
 *    the code is identical. A note says so on stderr.
 *  - anything else: an installed package name, found by walking up from the
 *    current directory's node_modules, then loaded as a directory.
 *
 * The package's own imports of `@egida/runtime-core` resolve from it; when
 * they cannot (a compiled directory not installed yet), from this runtime
 * (runtime-fallback.ts).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { defaultExport, ensureTsx, isTypeScriptFile } from "../host/tsx.js";
import { noneProtocol } from "../protocols/none.js";
import { ensureRuntimeResolves } from "./runtime-fallback.js";
import type { ProtocolFactory } from "../spi.js";

export class ProtocolLoadError extends Error {
  override readonly name = "ProtocolLoadError";
}

export interface LoadedProtocol {
  readonly factory: ProtocolFactory;
  /** The module that was imported (for children to import the same thing). */
  readonly entry: string | null;
  readonly notes: readonly string[];
}

export async function loadProtocol(spec: string, cwd: string = process.cwd()): Promise<LoadedProtocol> {
  if (spec === "none") return { factory: noneProtocol, entry: null, notes: [] };
  const asPath = resolve(cwd, spec);
  const looksLikePath = spec.startsWith(".") || spec.startsWith("/") || spec.includes("\\") || existsSync(asPath);
  const dir = looksLikePath ? asPath : findInstalled(spec, cwd);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ProtocolLoadError(`--protocol ${spec}: no such protocol package directory (${dir})`);
  }
  const { entry, notes } = packageEntry(dir, spec);
  const factory = await importFactory(entry, spec);
  return { factory, entry, notes };
}

/**
 * A protocol that tolerates f concurrent failures keeps each piece of
 * recovery state on f + 1 processes (determinants, replicas of a log or a
 * checkpoint), so it needs at least f + 1 ranks: with fewer, a causal
 * determinant never becomes stable and the job waits forever.
 */
export function checkTolerance(size: number, f: number, protocolName: string): void {
  if (f >= size) {
    throw new ProtocolLoadError(
      `protocol ${protocolName} tolerates f = ${f} concurrent failures and keeps its recovery state on f + 1 = ${f + 1} processes, ` +
        `but the job has ${size} rank(s): run at least ${f + 1} ranks (-n ${f + 1}) or lower f (--f ${Math.max(0, size - 1)})`,
    );
  }
}

/** Import an entry file and extract its ProtocolFactory (also used by rank children). */
export async function importFactory(entry: string, spec: string): Promise<ProtocolFactory> {
  if (isTypeScriptFile(entry)) {
    try {
      await ensureTsx(entry);
    } catch (e) {
      // No tsx to load the package's TypeScript: the user's to fix (install tsx, or build the package).
      throw new ProtocolLoadError(`--protocol ${spec}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  // A package run before `npm install` imports its runtime helpers from this install (runtime-fallback.ts).
  ensureRuntimeResolves(entry);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  } catch (e) {
    throw new ProtocolLoadError(`--protocol ${spec}: cannot import ${entry}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const viaCjs = mod["default"] as Record<string, unknown> | undefined;
  const candidates = [defaultExport(mod), mod["protocol"], viaCjs !== null && typeof viaCjs === "object" ? viaCjs["protocol"] : undefined];
  for (const candidate of candidates) {
    if (isFactory(candidate)) return candidate;
  }
  throw new ProtocolLoadError(
    `--protocol ${spec}: ${entry} must export a ProtocolFactory ({ protocolName, defaultF, create(host) }) as default or as \`protocol\``,
  );
}

function isFactory(v: unknown): v is ProtocolFactory {
  const o = v as Partial<ProtocolFactory> | null | undefined;
  return (
    o !== null &&
    o !== undefined &&
    typeof o === "object" &&
    typeof o.protocolName === "string" &&
    typeof o.defaultF === "number" &&
    typeof o.create === "function"
  );
}

function findInstalled(name: string, cwd: string): string {
  let d = resolve(cwd);
  for (;;) {
    const candidate = join(d, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    const up = dirname(d);
    if (up === d) throw new ProtocolLoadError(`--protocol ${name}: not a directory, not \`none\`, and no installed package of that name (looked in node_modules from ${cwd} up)`);
    d = up;
  }
}

type Exports = string | { readonly [k: string]: Exports } | null;

function pickExport(e: Exports | undefined): string | undefined {
  if (typeof e === "string") return e;
  if (e === null || e === undefined || typeof e !== "object") return undefined;
  // Subpath map ({".": ...}) or condition map ({import, default, types}).
  if ("." in e) return pickExport(e["."]);
  for (const cond of ["import", "node", "default"]) {
    const v = pickExport(e[cond]);
    if (v !== undefined) return v;
  }
  return undefined;
}

function packageEntry(dir: string, spec: string): { entry: string; notes: string[] } {
  const pj = join(dir, "package.json");
  let declared: string | undefined;
  if (existsSync(pj)) {
    let pkg: { exports?: Exports; main?: string };
    try {
      pkg = JSON.parse(readFileSync(pj, "utf8")) as { exports?: Exports; main?: string };
    } catch (e) {
      throw new ProtocolLoadError(`--protocol ${spec}: ${pj} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    declared = pickExport(pkg.exports) ?? pkg.main;
  }
  const candidates = declared ? [declared] : ["dist/index.js", "index.js", "index.mjs"];
  for (const c of candidates) {
    const p = resolve(dir, c);
    if (existsSync(p) && statSync(p).isFile()) {
      // A build older than its source (edited or regenerated since) would run stale code: run the source.
      // Only in a working tree: an installed package is immutable (and npm gives its files one fixed mtime).
      const src = join(dir, "src/index.ts");
      const installed = dir.split(/[\\/]/).includes("node_modules");
      if (!installed && existsSync(src) && statSync(src).mtimeMs > statSync(p).mtimeMs) {
        return { entry: src, notes: [`protocol package ${spec}: ${c} is older than src/index.ts; loading the source through tsx (rebuild it: npm run build)`] };
      }
      return { entry: p, notes: [] };
    }
  }
  for (const src of ["src/index.ts", "src/index.mts"]) {
    const p = join(dir, src);
    if (existsSync(p)) {
      return {
        entry: p,
        notes: [`protocol package ${spec} is not built (${declared ?? "no entry"} missing); loading ${src} through tsx`],
      };
    }
  }
  throw new ProtocolLoadError(`--protocol ${spec}: ${dir} has no entry (${candidates.join(", ")}) and no src/index.ts`);
}
