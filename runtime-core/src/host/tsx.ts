/**
 * Load TypeScript modules (a `.ts` app, or a protocol package without a
 * dist/ build) by registering tsx's ESM loader in this process on demand.
 *
 * Registering in-process (tsx/esm/api, Node >= 20.6) instead of requiring
 * `--import tsx` means the launcher, its children and the simulation all load
 * `.ts` the same way, and plain `.mjs` apps never pay for tsx.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

let registered = false;

export function isTypeScriptFile(file: string): boolean {
  return /\.(m|c)?ts$/.test(file) && !file.endsWith(".d.ts");
}

/** Whether this process was started with tsx already (`node --import tsx`, `tsx app`). */
function startedWithTsx(): boolean {
  return process.execArgv.some((a) => /(^|[\\/=])tsx(\/|$|[\\/]dist)/.test(a) || a === "tsx");
}

export async function ensureTsx(forWhat: string): Promise<void> {
  if (registered || startedWithTsx()) return;
  let apis: { register: () => unknown }[];
  try {
    // tsx is a devDependency of the workspace, not of this package: resolve it
    // from the thing being loaded first, then from here. Both loaders are
    // needed: a .ts file outside a "type": "module" package is CommonJS to Node.
    apis = (await Promise.all([import(resolveTsx(forWhat, "esm")), import(resolveTsx(forWhat, "cjs"))])) as { register: () => unknown }[];
  } catch {
    throw new Error(`${forWhat}: loading TypeScript needs tsx; install it (npm i -D tsx) or run the app from compiled .js/.mjs`);
  }
  for (const api of apis) api.register();
  registered = true;
}

/**
 * The module object's default export, seen through CommonJS interop: a .ts
 * file compiled as CommonJS exposes `export default x` as `default.default`.
 */
export function defaultExport(mod: Record<string, unknown>): unknown {
  const d = mod["default"];
  if (d !== null && typeof d === "object" && "__esModule" in d && "default" in d) return (d as { default: unknown }).default;
  return d;
}

function resolveTsx(from: string, kind: "esm" | "cjs"): string {
  for (const base of [from, import.meta.url]) {
    try {
      return pathToFileURL(createRequire(base).resolve(`tsx/${kind}/api`).replace(/\.cjs$/, ".mjs")).href;
    } catch {
      // try the next base
    }
  }
  return `tsx/${kind}/api`;
}
