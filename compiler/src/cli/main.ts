/**
 * `egida-gen`: the command-line entry point.
 *
 * Exit status: 0 success (warnings allowed), 1 spec errors, 2 usage errors,
 * 70 internal errors. A user mistake never prints a stack trace: commander's
 * errors are formatted here (exitOverride), and anything else that escapes a
 * subcommand is a bug, reported as such (with the stack under EGIDA_DEBUG=1).
 */
import { Command, CommanderError } from "commander";
import pc from "picocolors";
import { useColor } from "./color.js";
import { COMMANDS } from "./commands.js";
import { EXIT, type CliContext, type CliIO } from "./context.js";
import { version } from "./version.js";

const PROGRAM = "egida-gen";

export { version } from "./version.js";

export function processIO(): CliIO {
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
  };
}

function buildProgram(ctx: CliContext, setExit: (code: number) => void): Command {
  const { c } = ctx;
  const program = new Command(PROGRAM);
  program
    .description("Compile Egida rollback-recovery protocol specifications (Rao, Alvisi, Vin)")
    .version(version(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .helpCommand("help [command]", "show help for a command")
    .exitOverride()
    .showHelpAfterError(c.dim("(add --help for usage)"))
    .configureOutput({
      writeOut: ctx.io.stdout,
      writeErr: ctx.io.stderr,
      // commander's messages read "error: unknown option '--x'"; name the program, like every other diagnostic.
      outputError: (str, write) => write(`${PROGRAM}: ${str.replace(/^error:/, c.red(c.bold("error")) + ":")}`),
    })
    .addHelpText(
      "after",
      "\nExit status: 0 ok (warnings allowed), 1 spec errors, 2 usage errors.\nEnvironment: NO_COLOR, FORCE_COLOR (diagnostic colours), EGIDA_DEBUG=1 (stack traces of internal errors).",
    );
  for (const def of COMMANDS) {
    const cmd = program.command(def.name);
    def.define(cmd);
    cmd.action(async (...args: unknown[]) => {
      setExit(await def.run(args[args.length - 1] as Command, ctx));
    });
  }
  return program;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit status. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const color = useColor(io.env, io.stderrIsTTY);
  const ctx: CliContext = { io, color, c: pc.createColors(color) };
  let exit: number = EXIT.ok;
  try {
    await buildProgram(ctx, (code) => (exit = code)).parseAsync([...argv], { from: "user" });
    return exit;
  } catch (err: unknown) {
    if (err instanceof CommanderError) return commanderExit(err);
    io.stderr(`${PROGRAM}: ${ctx.c.red(ctx.c.bold("internal error"))}, please report: ${err instanceof Error ? err.message : String(err)}\n`);
    if (io.env["EGIDA_DEBUG"] === "1" && err instanceof Error && err.stack) io.stderr(err.stack + "\n");
    else io.stderr("(set EGIDA_DEBUG=1 for the stack trace)\n");
    return EXIT.internal;
  }
}

function commanderExit(err: CommanderError): number {
  switch (err.code) {
    case "commander.helpDisplayed":
    case "commander.version":
      return EXIT.ok;
    case "commander.help":
      // `help <command>` (exit code 0), or no subcommand given (help on stderr, exit code 1): a usage error.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    default:
      return EXIT.usage;
  }
}
