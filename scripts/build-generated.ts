/**
 * `npm run build` step: compile every checked-in package in generated/ to its
 * own dist/ (JavaScript, declarations, source maps), so `egida-run --protocol
 * generated/<name>` loads built JavaScript at every start and restart instead
 * of paying a TypeScript loader. One TypeScript program for all of them: one
 * type check, each file written to its package's dist/.
 */
import { readdirSync, existsSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const GEN = join(ROOT, "generated");

const packages = readdirSync(GEN).filter((d) => existsSync(join(GEN, d, "src/index.ts")));
const roots = packages.map((d) => join(GEN, d, "src/index.ts"));
// The packages' own tsconfig (they are all generated from one template).
const cfg = ts.readConfigFile(join(GEN, packages[0]!, "tsconfig.json"), (f) => ts.sys.readFile(f));
const { options } = ts.convertCompilerOptionsFromJson(cfg.config.compilerOptions, join(GEN, packages[0]!));
delete options.rootDir;
delete options.outDir;
const program = ts.createProgram(roots, { ...options, noEmitOnError: true });
const diagnostics = ts.getPreEmitDiagnostics(program);
if (diagnostics.length > 0) {
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => "\n" }));
  process.exit(1);
}
// generated/<name>/src/index.* -> generated/<name>/dist/index.*
const emit = program.emit(undefined, (file, text) => {
  const rel = relative(GEN, file).split(sep);
  const name = rel[0]!;
  const base = rel[rel.length - 1]!;
  // Moved from beside the sources to dist/: a map must point back at ../src/index.ts.
  const out = base.endsWith(".map") ? JSON.stringify({ ...(JSON.parse(text) as object), sources: ["../src/index.ts"] }) : text;
  ts.sys.writeFile(join(GEN, name, "dist", base), out);
});
if (emit.emitSkipped) {
  process.stderr.write("build-generated: emit skipped\n");
  process.exit(1);
}
