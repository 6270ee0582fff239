/** `egida-gen explain SPEC [--format text|mermaid|json]`: the module chain of every event kind. */
import { Option, type Command } from "commander";
import { explain, EXPLAIN_FORMATS, type ExplainFormat } from "../explain/index.js";
import { EXIT, type CliCommand, type CliContext } from "./context.js";
import { countText, loadAndCheck } from "./load-spec.js";

export const explainCommand: CliCommand = {
  name: "explain",
  define(cmd: Command): void {
    cmd
      .description("explain a protocol: its family, its guarantees, and the modules and blocks each event goes through")
      .argument("<spec>", "spec file (.egida text, or IR .json)")
      .addOption(new Option("-f, --format <format>", "output format").choices(EXPLAIN_FORMATS).default("text"))
      .addHelpText(
        "after",
        "\nFormats: text (readable), mermaid (a flowchart for Markdown), json (machine-readable).\nA spec with errors is not explained: its diagnostics go to stderr and the exit status is 1.\n\nExample:\n  egida-gen explain specs/fig3a-damani-garg.egida --format mermaid",
      );
  },
  async run(cmd: Command, ctx: CliContext): Promise<number> {
    const file = cmd.processedArgs[0] as string;
    const { format } = cmd.opts<{ format: ExplainFormat }>();
    const spec = await loadAndCheck(file, ctx);
    if (!spec.ir || !spec.registry || !spec.facts || !spec.classification) {
      if (spec.diagnostics.length > 0) ctx.io.stderr(`${file}: ${countText(spec.errors, spec.warnings)}\n`);
      return EXIT.specError;
    }
    ctx.io.stdout(explain(spec.ir, spec.registry, format, { facts: spec.facts, classification: spec.classification }));
    return EXIT.ok;
  },
};
