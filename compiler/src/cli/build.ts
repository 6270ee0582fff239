/** `egida-gen build DIR`: compile a generated package's src/ to dist/ (JS, .d.ts, source maps). */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { EXIT, type CliCommand, type CliContext } from "./context.js";

/** Shared with `compile --build`. Problems in generated code are egida-gen bugs: exit 70. */
export async function runBuild(dir: string, ctx: CliContext): Promise<number> {
  if (!existsSync(join(dir, "tsconfig.json"))) {
    ctx.io.stderr(`${ctx.c.bold(dir)}: ${ctx.c.red(ctx.c.bold("error"))}: not a generated package (no tsconfig.json); run egida-gen compile first\n`);
    return EXIT.specError;
  }
  // ts-morph (and TypeScript) load only for the commands that need them, so check/explain start fast.
  const { buildPackage } = await import("../codegen/build.js");
  const result = buildPackage(dir);
  if (result.problems.length > 0) {
    for (const p of result.problems) ctx.io.stderr(`${p.file}:${p.line}: ${ctx.c.red(ctx.c.bold("error"))}: ${p.message}\n`);
    ctx.io.stderr(`egida-gen: ${ctx.c.red(ctx.c.bold("internal error"))}: the generated package does not compile; please report it with the spec\n`);
    return EXIT.internal;
  }
  ctx.io.stdout(`built ${dir}: ${result.emitted.length} files in dist/\n`);
  return EXIT.ok;
}

export const buildCommand: CliCommand = {
  name: "build",
  define(cmd: Command): void {
    cmd
      .description("compile a generated protocol package (src/ → dist/: JavaScript, declarations, source maps)")
      .argument("<dir>", "package directory written by `egida-gen compile`")
      .addHelpText("after", "\nExample:\n  egida-gen compile specs/fig4a-sby.egida --out out/sby && egida-gen build out/sby");
  },
  async run(cmd: Command, ctx: CliContext): Promise<number> {
    const dir = cmd.processedArgs[0] as string;
    return runBuild(dir, ctx);
  },
};
