/**
 * Load TypeScript modules (a `.ts` app, or a protocol package without a
 * dist/ build) by registering tsx's ESM loader in this process on demand.
 *
 * Registering in-process (tsx/esm/api, Node >= 20.6) instead of requiring
 * `--import tsx` means the launcher, its children and the simulation all load
 * `.ts` the same way, and plain `.mjs` apps never pay for tsx.
 */
import { createRequire } from "node:module";

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
  let api: { register: () => unknown };
  try {
    // tsx is a devDependency of the workspace, not of this package: resolve it
    // from the thing being loaded first, then from here.
    const spec = resolveTsx(forWhat);
    api = (await import(spec)) as { register: () => unknown };
  } catch {
    throw new Error(
      `${forWhat}: loading TypeScript needs tsx; install it (npm i -D tsx) or run the app from compiled .js/.mjs`,
    );
  }
  api.register();
  registered = true;
}

function resolveTsx(from: string): string {
  for (const base of [from, import.meta.url]) {
    try {
      return createRequire(base).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs");
    } catch {
      // try the next base
    }
  }
  return "tsx/esm/api";
}
