/**
 * Type-check generated sources in memory against the runtime's declarations,
 * with the workspace's strict options. Used by tests (golden, property) and by
 * `egida-gen compile --check`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Project, ts } from "ts-morph";

const RUNTIME_SPI = fileURLToPath(new URL("../../../runtime-core/src/spi.ts", import.meta.url));
const RUNTIME_LIB = fileURLToPath(new URL("../../../runtime-core/src/protocol-lib/", import.meta.url));
const NODE_MODULES = fileURLToPath(new URL("../../../node_modules/", import.meta.url));

/** Copy a package's declaration files into the in-memory file system (generated code targets Node: TextEncoder, timers). */
function mirrorTypes(fs: { writeFileSync(path: string, text: string): void }, pkg: string): void {
  const base = join(NODE_MODULES, pkg);
  const visit = (dir: string): void => {
    for (const e of readdirSync(dir)) {
      const full = join(dir, e);
      if (statSync(full).isDirectory()) visit(full);
      else if (e.endsWith(".d.ts") || e === "package.json") fs.writeFileSync(`/node_modules/${pkg}/${full.slice(base.length + 1)}`, readFileSync(full, "utf8"));
    }
  };
  visit(base);
}

/** Strict options mirroring tsconfig.base.json. */
export const STRICT_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ["lib.es2023.d.ts"],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  useUnknownInCatchVariables: true,
  isolatedModules: true,
  verbatimModuleSyntax: true,
  declaration: true,
  skipLibCheck: true,
  types: ["node"],
  noEmit: true,
};

let runtimeDts: string | undefined;

/** The SPI's declarations (the runtime's public types), emitted from its source once per process. */
export function runtimeDeclarations(spiPath: string = RUNTIME_SPI): string {
  if (runtimeDts !== undefined && spiPath === RUNTIME_SPI) return runtimeDts;
  const p = new Project({ useInMemoryFileSystem: true, compilerOptions: { ...STRICT_OPTIONS, types: [], noEmit: false, emitDeclarationOnly: true, declaration: true } });
  p.createSourceFile("/spi.ts", readFileSync(spiPath, "utf8"));
  const out = p.emitToMemory({ emitOnlyDtsFiles: true }).getFiles().find((f) => f.filePath.endsWith("spi.d.ts"));
  if (!out) throw new Error("could not emit the runtime SPI declarations");
  if (spiPath === RUNTIME_SPI) runtimeDts = out.text;
  return out.text;
}

let libDts: Map<string, string> | undefined;

/** The protocol helpers' declarations (`@egida/runtime-core/protocol-lib`), file name → text, emitted from their sources once per process. */
function protocolLibDeclarations(): Map<string, string> {
  if (libDts !== undefined) return libDts;
  const p = new Project({ useInMemoryFileSystem: true, compilerOptions: { ...STRICT_OPTIONS, types: [], noEmit: false, emitDeclarationOnly: true, declaration: true } });
  for (const f of readdirSync(RUNTIME_LIB).filter((e) => e.endsWith(".ts"))) p.createSourceFile(`/protocol-lib/${f}`, readFileSync(join(RUNTIME_LIB, f), "utf8"));
  libDts = new Map(p.emitToMemory({ emitOnlyDtsFiles: true }).getFiles().map((f) => [f.filePath.slice(f.filePath.lastIndexOf("/") + 1), f.text] as const));
  if (!libDts.has("index.d.ts")) throw new Error("could not emit the runtime protocol-lib declarations");
  return libDts;
}

export interface TypeCheckProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

let shared: Project | undefined;
let n = 0;

/** Type-check `files` (path → text, paths relative to a package root). */
export function typeCheck(files: ReadonlyMap<string, string>): TypeCheckProblem[] {
  if (!shared) {
    shared = new Project({ useInMemoryFileSystem: true, compilerOptions: STRICT_OPTIONS });
    const fs = shared.getFileSystem();
    fs.writeFileSync("/node_modules/@egida/runtime-core/package.json", JSON.stringify({ name: "@egida/runtime-core", type: "module", exports: { ".": { types: "./index.d.ts" }, "./spi": { types: "./spi.d.ts" }, "./protocol-lib": { types: "./protocol-lib/index.d.ts" } } }));
    fs.writeFileSync("/node_modules/@egida/runtime-core/index.d.ts", `export * from "./spi.js";\n`);
    fs.writeFileSync("/node_modules/@egida/runtime-core/spi.d.ts", runtimeDeclarations());
    for (const [f, text] of protocolLibDeclarations()) fs.writeFileSync(`/node_modules/@egida/runtime-core/protocol-lib/${f}`, text);
    mirrorTypes(fs, "@types/node");
    mirrorTypes(fs, "undici-types");
  }
  const root = `/pkg${n++}`;
  const fs = shared.getFileSystem();
  fs.writeFileSync(`${root}/package.json`, JSON.stringify({ type: "module" }));
  const added = [...files].map(([path, text]) => shared!.createSourceFile(`${root}/${path}`, text, { overwrite: true }));
  try {
    const program = shared.getProgram();
    return added.flatMap((sf) =>
      program
        .getSemanticDiagnostics(sf)
        .concat(program.getSyntacticDiagnostics(sf))
        .map((d) => ({
          file: sf.getFilePath().slice(root.length + 1),
          line: d.getLineNumber() ?? 0,
          message: ts.flattenDiagnosticMessageText(d.getMessageText() as string | ts.DiagnosticMessageChain, "\n"),
        })),
    );
  } finally {
    for (const sf of added) shared.removeSourceFile(sf);
  }
}
