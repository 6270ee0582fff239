/**
 * What a subcommand gets from `main`: where to write, whether to colour, and
 * the shared spec loader. Subcommands never touch `process` directly, so
 * tests can run them in-process and `main` owns every exit code.
 */
import type { Command } from "commander";
import type { Colors } from "picocolors/types.js";

export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stderrIsTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface CliContext {
  readonly io: CliIO;
  /** Colour diagnostics and messages on stderr. */
  readonly color: boolean;
  readonly c: Colors;
}

/** Exit codes: the CLI's contract with scripts and CI. */
export const EXIT = {
  ok: 0,
  /** The spec has errors (or cannot be read). */
  specError: 1,
  /** The command line is wrong (unknown flag, missing argument). */
  usage: 2,
  /** A bug in egida-gen (sysexits EX_SOFTWARE). */
  internal: 70,
} as const;

/**
 * One subcommand. To add one (e.g. `compile`): write `compile-command.ts`
 * exporting a `CliCommand`, and add it to the table in `commands.ts`.
 */
export interface CliCommand {
  readonly name: string;
  /** Declares arguments, options, description and help text on the commander command. */
  define(cmd: Command): void;
  /**
   * Runs with commander's parsed arguments (`cmd.processedArgs`) and options
   * (`cmd.opts()`); returns the exit code. Report user mistakes as
   * diagnostics and an exit code, never by throwing.
   */
  run(cmd: Command, ctx: CliContext): Promise<number>;
}
