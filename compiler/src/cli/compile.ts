/** `egida-gen compile SPEC --out DIR [--emit inline|modular] [--build]`: write a complete protocol package. */
import { relative, sep } from "node:path";
import { Option, type Command } from "commander";
import { UnsupportedProtocolError } from "../blocks/select.js";
import { CodegenError } from "../codegen/code.js";
import type { EmitKind } from "../codegen/types.js";
import { renderDiagnostic } from "../diagnostics/render.js";
import { refusalDiagnostic } from "../passes/check-generate.js";
import { classify } from "../passes/classify.js";
import { runBuild } from "./build.js";
import { EXIT, type CliCommand, type CliContext } from "./context.js";
import { loadAndCheck } from "./load-spec.js";

interface CompileOptions {
  out: string;
  emit: EmitKind;
  build?: boolean;
  packageName?: string;
  packageVersion?: string;
  repository?: string;
}

/** The spec path as headers show it: relative to the working directory, `/`-separated. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, file);
  return (rel.startsWith("..") || rel === "" ? file : rel).split(sep).join("/");
}

export const compileCommand: CliCommand = {
  name: "compile",
  define(cmd: Command): void {
    cmd
      .description("generate a protocol package (TypeScript source, package.json, README, tests) from a spec")
      .argument("<spec>", "spec file (.egida text, or IR .json)")
      .requiredOption("-o, --out <dir>", "output directory (created; generated files are overwritten)")
      .addOption(new Option("--emit <backend>", "inline: one class; modular: one class per paper module").choices(["inline", "modular"]).default("inline"))
      .option("--build", "also compile the package to dist/ (like `egida-gen build <dir>`)")
      .option("--package-name <name>", "npm package name (default @egida/protocol-<name>)")
      .option("--package-version <version>", "package version (default 0.1.0)")
      .option("--repository <url>", "package.json `repository` URL (default: none)")
      .addHelpText(
        "after",
        "\nExit status: 0 ok, 1 spec errors (or a protocol the block library cannot implement yet), 2 usage errors.\n\nExample:\n  egida-gen compile specs/fig4a-sby.egida --out generated/fig4a-sby --build",
      );
  },
  async run(cmd: Command, ctx: CliContext): Promise<number> {
    const file = cmd.processedArgs[0] as string;
    const opts = cmd.opts<CompileOptions>();
    const spec = await loadAndCheck(file, ctx);
    if (!spec.ir || !spec.registry) return EXIT.specError;
    const source = spec.source ?? "";
    const checked = { ir: spec.ir, classification: classify(spec.ir, spec.registry) };
    // The emitters pull in ts-morph: load them only when compiling, so check/explain start fast.
    const [{ renderPackage, writePackage }, { blockLibrary, emitInputFor }] = await Promise.all([import("../codegen/package.js"), import("../codegen/pipeline.js")]);
    try {
      const input = emitInputFor(checked, source, displayPath(file));
      const files = renderPackage(blockLibrary(), input, {
        emit: opts.emit,
        ...(opts.packageName !== undefined ? { packageName: opts.packageName } : {}),
        ...(opts.packageVersion !== undefined ? { version: opts.packageVersion } : {}),
        ...(opts.repository !== undefined ? { repository: { url: opts.repository } } : {}),
      });
      writePackage(opts.out, files);
      ctx.io.stdout(`wrote ${opts.out}: ${files.size} files (${opts.emit}, ${checked.classification.family})\n`);
    } catch (e: unknown) {
      if (e instanceof UnsupportedProtocolError) {
        // Only a spec `check` warned about reaches here (W-plugin-not-generated): the same error `check` gives built-in specs.
        ctx.io.stderr(renderDiagnostic(refusalDiagnostic(e, file), source, { color: ctx.color }) + "\n\n");
        return EXIT.specError;
      }
      if (e instanceof CodegenError && /invalid npm package name/.test(e.message)) {
        ctx.io.stderr(`egida-gen: ${ctx.c.red(ctx.c.bold("error"))}: ${e.message}\n`);
        return EXIT.usage;
      }
      throw e;
    }
    return opts.build === true ? runBuild(opts.out, ctx) : EXIT.ok;
  },
};
