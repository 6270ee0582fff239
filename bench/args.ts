/**
 * Command-line flags of the benchmarks: node:util parseArgs with `--help`,
 * and a wrong flag as one usage line and exit 2 (never a stack trace).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parsed flags of `bench/<name>.ts`; `usage` is the synopsis printed by --help and after an error. */
export function benchArgs<O extends Options>(name: string, usage: string, options: O, argv: readonly string[] = process.argv.slice(2)) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...options, help: { type: "boolean", short: "h" } }, strict: true });
  } catch (e) {
    process.stderr.write(`bench/${name}.ts: ${(e as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  if ((parsed.values as Record<string, unknown>)["help"] === true) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return parsed.values as ReturnType<typeof parseArgs<{ options: O }>>["values"];
}
