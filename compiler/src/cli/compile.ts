/** `egida-gen compile SPEC --out DIR [--emit inline|modular] [--build]`: write a complete protocol package. */
import { relative, sep } from "node:path";
import { Option, type Command } from "commander";
import { CodegenError } from "../codegen/code.js";
import type { PackageOptions } from "../codegen/package.js";
import type { EmitKind } from "../codegen/types.js";
import { runBuild } from "./build.js";
import { EXIT, type CliCommand, type CliContext } from "./context.js";
import { loadAndCheck, type LoadedSpec } from "./load-spec.js";

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
    const options: PackageOptions = {
      emit: opts.emit,
      ...(opts.packageName !== undefined ? { packageName: opts.packageName } : {}),
      ...(opts.packageVersion !== undefined ? { version: opts.packageVersion } : {}),
      ...(opts.repository !== undefined ? { repository: { url: opts.repository } } : {}),
    };
    let spec: LoadedSpec;
    try {
      // One pipeline run: check, select and generate (the emitters load only here, so check/explain start fast).
      spec = await loadAndCheck(file, ctx, { generate: { kind: "package", options }, specFile: displayPath(file) });
    } catch (e: unknown) {
      if (e instanceof CodegenError && /invalid npm package name/.test(e.message)) {
        ctx.io.stderr(`egida-gen: ${ctx.c.red(ctx.c.bold("error"))}: ${e.message}\n`);
        return EXIT.usage;
      }
      throw e;
    }
    const files = spec.compilation.output?.files;
    if (!spec.ir || !spec.classification || !files) return EXIT.specError;
    const { writePackage } = await import("../codegen/package.js");
    writePackage(opts.out, files);
    ctx.io.stdout(`wrote ${opts.out}: ${files.size} files (${opts.emit}, ${spec.classification.family})\n`);
    return opts.build === true ? runBuild(opts.out, ctx) : EXIT.ok;
  },
};
