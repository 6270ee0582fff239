/** `egida-gen init DIR [--protocol NAME|FILE]`: create an application project that runs under a generated protocol. */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { EXIT, type CliCommand, type CliContext } from "./context.js";
import { loadAndCheck } from "./load-spec.js";
import { pluginValues } from "../passes/check-generate.js";
import { version } from "./version.js";

interface InitOptions {
  protocol?: string;
}

/** Where the spec comes from: a bundled spec's name, or a file; or why neither. */
type SpecChoice = { readonly file: string; readonly label: string } | { readonly problem: string };

function chooseSpec(arg: string | undefined, specsDir: string, known: readonly string[], defaultSpec: string): SpecChoice {
  const name = arg ?? defaultSpec;
  if (known.includes(name)) return { file: join(specsDir, `${name}.egida`), label: name };
  if (arg === undefined) return { problem: `the default spec ${defaultSpec} is missing from ${specsDir} (a broken installation; reinstall egida-gen)` };
  if (arg.toLowerCase().endsWith(".json")) return { problem: `--protocol ${arg}: init takes an Egida spec (.egida text), not IR JSON` };
  if (existsSync(arg)) {
    if (!statSync(arg).isFile()) return { problem: `--protocol ${arg}: not a file` };
    return { file: arg, label: arg };
  }
  const looksLikePath = /[\\/]/.test(arg) || arg.toLowerCase().endsWith(".egida");
  if (looksLikePath) return { problem: `--protocol ${arg}: no such spec file` };
  return { problem: `--protocol ${arg}: unknown protocol; give a spec file (.egida) or one of: ${known.join(", ")}` };
}

/** A file system error as a few words: its code, and what it means for the common ones. */
function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === undefined) return e instanceof Error ? e.message : String(e);
  const meaning: Record<string, string> = { EACCES: "no permission", EPERM: "no permission", ENOSPC: "disk full", EROFS: "read-only file system", ENOTDIR: "a parent is not a directory", EEXIST: "a file appeared meanwhile" };
  return meaning[code] ? `${code} (${meaning[code]})` : code;
}

/**
 * mkdir -p one level at a time: a recursive mkdirSync reports ENOENT where
 * the file system said EROFS or EACCES, and the user needs the real reason.
 */
function makeDirs(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) makeDirs(parent);
  mkdirSync(dir);
}

/** Why DIR cannot receive a new project, or null. */
function targetProblem(dir: string): string | null {
  if (!existsSync(dir)) return null;
  if (!statSync(dir).isDirectory()) return `${dir}: exists and is not a directory`;
  if (readdirSync(dir).length > 0) return `${dir}: directory exists and is not empty; choose a new directory (init never overwrites files)`;
  return null;
}

export const initCommand: CliCommand = {
  name: "init",
  define(cmd: Command): void {
    cmd
      .description("create an application project: a typed app, a protocol spec, npm scripts to build, run and crash-test it")
      .argument("<dir>", "project directory (created; must not exist or be empty)")
      .option("--protocol <spec>", "the protocol: a spec name from egida-gen's specs/ (default fig4a-sby) or an .egida file")
      .addHelpText(
        "after",
        "\nThe project: src/app.ts (a ring reduction over N ranks), protocol.egida, test/app.test.ts\n(crashes on the simulator, compared with a failure-free run), package.json with build, start,\nstart:kill and test scripts, README.md, .gitignore.\n\nExit status: 0 ok, 1 spec errors, 2 usage errors (DIR not empty, unknown --protocol).\n\nExample:\n  egida-gen init my-app --protocol receiver-based-pessimistic && cd my-app && npm install && npm test",
      );
  },
  async run(cmd: Command, ctx: CliContext): Promise<number> {
    const dir = cmd.processedArgs[0] as string;
    const opts = cmd.opts<InitOptions>();
    const error = (message: string): number => {
      ctx.io.stderr(`egida-gen init: ${ctx.c.red(ctx.c.bold("error"))}: ${message}\n`);
      return EXIT.usage;
    };
    const { bundledSpecs, DEFAULT_SPEC, projectName, renderScaffold, SPECS_DIR, withNameHeader } = await import("../init/scaffold.js");

    let choice: SpecChoice;
    try {
      const problem = targetProblem(dir);
      if (problem !== null) return error(problem);
      choice = chooseSpec(opts.protocol, SPECS_DIR, bundledSpecs(), DEFAULT_SPEC);
    } catch (e: unknown) {
      // An unreadable DIR or --protocol path (EACCES, ELOOP, ...): the user's environment, not a bug.
      return error(`cannot inspect ${dir} or the --protocol file: ${fsReason(e)}`);
    }
    if ("problem" in choice) return error(choice.problem);

    const spec = await loadAndCheck(choice.file, ctx);
    if (!spec.ir || !spec.registry || spec.source === null) return EXIT.specError;
    // The project compiles its copy of the spec alone: values from an egida.config.json plugin (media included) would not be there.
    if (pluginValues(spec.ir, spec.registry, true).length > 0) {
      ctx.io.stderr(`egida-gen init: ${ctx.c.red(ctx.c.bold("error"))}: ${choice.label}: uses plugin values (egida.config.json), which the project's copy of the spec would not find; choose a spec of built-in values\n`);
      return EXIT.specError;
    }
    const ir = spec.ir;
    const specSource = withNameHeader(spec.source, ir.name, spec.registry);
    if (specSource === null) return error(`${choice.label}: cannot add the header \`protocol ${ir.name}\` to the spec; add it yourself and run init again`);

    // The runtime version egida-gen itself pins (codegen/package.ts), so the project and its generated protocol share one runtime.
    const { runtimeVersion, TYPESCRIPT_RANGE, TYPES_NODE_RANGE } = await import("../codegen/package.js");
    const family = spec.classification!.family;
    const files = renderScaffold({
      name: projectName(basename(resolve(dir))),
      protocolName: ir.name,
      family,
      egidaGenVersion: version(),
      runtimeVersion: runtimeVersion(),
      typescriptRange: TYPESCRIPT_RANGE,
      typesNodeRange: TYPES_NODE_RANGE,
      specSource,
    });
    try {
      for (const [path, text] of files) {
        const full = join(dir, path);
        makeDirs(dirname(full));
        // "wx": never overwrite, even if something appeared in DIR meanwhile.
        writeFileSync(full, text, { flag: "wx" });
      }
    } catch (e: unknown) {
      return error(`cannot write the project into ${dir}: ${fsReason(e)}`);
    }
    ctx.io.stdout(
      `created ${dir}: ${files.size} files (protocol ${ir.name}, ${family})\n\nNext:\n  cd ${dir}\n  npm install\n  npm test             # crashes on the simulator, compared with a failure-free run\n  npm run start:kill   # 4 processes over TCP, rank 2 killed and recovered\n`,
    );
    return EXIT.ok;
  },
};
