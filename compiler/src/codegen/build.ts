/**
 * Build a generated package: `src/` → `dist/` (JavaScript, `.d.ts`, source
 * and declaration maps) with the TypeScript compiler API (ts-morph's bundled
 * `ts`, through a ts-morph Project), using the package's own tsconfig.json.
 *
 * The package may live outside any workspace and have no node_modules yet:
 * when `@egida/runtime-core` or `@types/node` do not resolve from it, they
 * resolve to the copies this compiler is installed with (types only; nothing
 * is copied into the package).
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { Project, ts } from "ts-morph";
import { RUNTIME_IMPORT, RUNTIME_LIB_IMPORT, RUNTIME_PACKAGE } from "./names.js";

export interface BuildProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export interface BuildResult {
  readonly emitted: readonly string[];
  readonly problems: readonly BuildProblem[];
}

const ownRequire = createRequire(import.meta.url);

function resolvesFrom(dir: string, spec: string): boolean {
  try {
    createRequire(join(dir, "package.json")).resolve(spec);
    return true;
  } catch {
    return false;
  }
}

export function buildPackage(dir: string): BuildResult {
  const root = resolve(dir);
  const compilerOptions: ts.CompilerOptions = { noEmitOnError: true };
  if (!resolvesFrom(root, `${RUNTIME_PACKAGE}/package.json`)) {
    const spi = ownRequire.resolve(RUNTIME_IMPORT).replace(/\.js$/, ".d.ts");
    compilerOptions.paths = { [RUNTIME_IMPORT]: [spi], [RUNTIME_LIB_IMPORT]: [join(dirname(spi), "protocol-lib", "index.d.ts")], [RUNTIME_PACKAGE]: [join(dirname(spi), "index.d.ts")] };
  }
  if (!existsSync(join(root, "node_modules", "@types", "node"))) {
    compilerOptions.typeRoots = [dirname(dirname(ownRequire.resolve("@types/node/package.json")))];
  }
  // ts-morph supplies the lib files itself (its bundled TypeScript has none on disk).
  const project = new Project({ tsConfigFilePath: join(root, "tsconfig.json"), compilerOptions });
  const errors = project.getPreEmitDiagnostics().filter((d) => d.getCategory() === ts.DiagnosticCategory.Error);
  if (errors.length > 0) return { emitted: [], problems: errors.map((d) => problem(d.compilerObject)) };
  const result = project.emitToMemory();
  const emitted: string[] = [];
  for (const f of result.getFiles()) {
    mkdirSync(dirname(f.filePath), { recursive: true });
    writeFileSync(f.filePath, f.text);
    emitted.push(f.filePath);
  }
  return { emitted: emitted.sort(), problems: result.getDiagnostics().map((d) => problem(d.compilerObject)) };
}

function problem(d: ts.Diagnostic): BuildProblem {
  const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
  return { file: d.file?.fileName ?? "", line: pos ? pos.line + 1 : 0, message: ts.flattenDiagnosticMessageText(d.messageText, "\n") };
}
