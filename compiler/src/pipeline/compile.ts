/**
 * Run the passes over one spec: `compile(path, options)` → the compilation,
 * with its diagnostics (front end first, then the checker's in source order).
 * Never throws on a user mistake; a thrown error is an egida-gen bug.
 */
import { createCompilation, type Compilation, type CompileOptions, type Pass } from "./compilation.js";
import { passes as defaultPasses } from "./passes.js";

export async function compile(path: string, options: CompileOptions = {}, passes: readonly Pass[] = defaultPasses): Promise<Compilation> {
  const c = createCompilation(path, options);
  for (const pass of passes) {
    if (!pass.applies(c)) continue;
    options.onPass?.(pass.name);
    await pass.run(c);
  }
  return c;
}

/** The spec compiled to a valid IR: no error diagnostic. */
export function succeeded(c: Compilation): boolean {
  return c.ir !== null && !c.diagnostics.some((d) => d.severity === "error");
}
