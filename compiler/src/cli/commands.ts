/**
 * The subcommand table. Adding a subcommand is one file exporting a
 * `CliCommand` plus one line here; `main` wires help, errors and exit codes.
 */
import { buildCommand } from "./build.js";
import { checkCommand } from "./check-command.js";
import { compileCommand } from "./compile.js";
import type { CliCommand } from "./context.js";
import { explainCommand } from "./explain-command.js";
import { initCommand } from "./init-command.js";

export const COMMANDS: readonly CliCommand[] = [
  checkCommand,
  compileCommand,
  buildCommand,
  explainCommand,
  initCommand,
];
