/** `egida-gen check SPEC... [--json]`: validate specs, report diagnostics and each protocol's family. */
import type { Command } from "commander";
import type { ProtocolIR } from "../ir/types.js";
import { EXIT, type CliCommand, type CliContext } from "./context.js";
import { countText, loadAndCheck } from "./load-spec.js";

export const checkCommand: CliCommand = {
  name: "check",
  define(cmd: Command): void {
    cmd
      .description("parse and check specs; print each protocol's family")
      .argument("<spec...>", "spec files (.egida text, or IR .json)")
      .option("--json", "print the checked IR as JSON on stdout (an array, with null for invalid specs, when several are given)")
      .addHelpText(
        "after",
        "\nDiagnostics go to stderr. Exit status: 0 when every spec is valid (warnings allowed),\n1 when a spec has errors or cannot be read, 2 on a usage error.\n\nExample:\n  egida-gen check specs/*.egida",
      );
  },
  async run(cmd: Command, ctx: CliContext): Promise<number> {
    const files = (cmd.processedArgs[0] ?? []) as string[];
    const { json = false } = cmd.opts<{ json?: boolean }>();
    const irs: (ProtocolIR | null)[] = [];
    let failed = false;
    for (const file of files) {
      const spec = await loadAndCheck(file, ctx);
      irs.push(spec.ir);
      const counts = countText(spec.errors, spec.warnings);
      if (!spec.ir || !spec.registry) {
        failed = true;
        if (spec.diagnostics.length > 0) ctx.io.stderr(`${file}: ${counts}\n`);
        continue;
      }
      if (!json) {
        const cls = spec.classification!;
        const family = cls.variant ? `${cls.family} (${cls.variant})` : cls.family;
        ctx.io.stdout(`${file}: ok, ${family}${counts ? `, ${counts}` : ""}\n`);
      }
    }
    if (json) {
      const out = files.length === 1 ? irs[0] : irs;
      if (out !== null && out !== undefined) ctx.io.stdout(JSON.stringify(out, null, 2) + "\n");
    }
    return failed ? EXIT.specError : EXIT.ok;
  },
};
