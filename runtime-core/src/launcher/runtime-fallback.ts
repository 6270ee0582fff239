/**
 * A protocol package imports the runtime's protocol helpers at run time
 * (`@egida/runtime-core/protocol-lib`), as its package.json dependency says.
 * A package compiled into a directory and run before `npm install` (egida-gen
 * compile --out DIR, then egida-run --protocol DIR) has no node_modules to
 * find them in: the protocol runs inside this runtime anyway, so its
 * `@egida/runtime-core` imports that do not resolve from the package resolve
 * to this install instead (the way `egida-gen build` type-checks such a
 * package against its own runtime-core). A package that can resolve them
 * keeps its own: nothing is registered for it.
 */
import { createRequire, register } from "node:module";

/**
 * Module resolve hook (runs on Node's loader thread): a failed resolution of
 * `@egida/runtime-core[/...]` is retried from `parentURL`, a module of this
 * package, which resolves it as a self-reference through its own `exports`.
 */
const HOOKS = `let parentURL;
export function initialize(data) { parentURL = data.parentURL; }
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    if (specifier !== "@egida/runtime-core" && !specifier.startsWith("@egida/runtime-core/")) throw e;
    return next(specifier, { ...context, parentURL });
  }
}
`;

let registered = false;

/** Whether `@egida/runtime-core` resolves from `file`'s location (its package's node_modules, or any above). */
function resolvesFrom(file: string): boolean {
  try {
    createRequire(file).resolve("@egida/runtime-core/package.json");
    return true;
  } catch {
    return false;
  }
}

/** Before importing the protocol entry `file`: let its runtime imports fall back to this install when they cannot resolve from it. */
export function ensureRuntimeResolves(file: string): void {
  if (registered || resolvesFrom(file)) return;
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data: { parentURL: import.meta.url } });
  registered = true;
}
