/**
 * Protocols compiled from a plugin directory, for both crash campaigns
 * (`npm run campaign -- --plugin DIR`, `npm run campaign:real -- --plugin DIR`).
 *
 * A plugin directory holds a spec (`example.egida`, or the `.egida` file
 * given) and the `egida.config.json` naming the plugin, as
 * examples/plugins/* do. The spec is compiled the way a user compiles it:
 * `egida-gen compile <spec> -o <dir>` run from the spec's directory (the
 * compiler's bin, so its config lookup, plugin loading, block analysis and
 * splicing are the ones users get). Beside the package, node_modules/ links
 * the plugin's package (what `npm install <plugin>` next to the package
 * does), so a medium's runtime store resolves; the package's single source
 * file is transpiled to dist/index.js, which egida-run and the simulator
 * load without tsx.
 *
 * Timer periods: the real campaign compiles the spec verbatim. The simulated
 * campaign compiles a copy whose header carries the campaign's periods
 * (CAMPAIGN_OPTIONS, as its inline/modular builds of the built-in specs get),
 * from a directory whose egida.config.json names the same plugin entries:
 * simulated jobs last tens of virtual ms, and a spec's 200 ms checkpoint
 * period would never fire in them.
 *
 * Packages go under .egida-tmp/plugins/ (gitignored), one directory per
 * hash of the generated source and the plugin directories it links:
 * concurrent campaigns and tests share them, and a changed block file or
 * spec gives a new directory.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { loadConfig } from "../../compiler/src/config/find-config.js";
import { loadRegistry, parseSpec } from "../../compiler/src/frontend.js";
import type { ProtocolOptions } from "../../compiler/src/ir/types.js";
import { classify } from "../../compiler/src/passes/classify.js";
import type { ProtocolFactory } from "../../runtime-core/src/spi.js";
import type { Family } from "./oracles.js";
import { CAMPAIGN_OPTIONS, familyOf, type Backend, type ProtocolEntry } from "./protocols.js";

const ROOT = join(import.meta.dirname, "../..");
const GEN = join(ROOT, "compiler/bin/egida-gen.js");
const CACHE = join(ROOT, ".egida-tmp", "plugins");

/** The plugin packages this repository ships, each with an example spec (`--plugins`). */
export const PLUGIN_EXAMPLES: readonly string[] = ["examples/plugins/mirrored-disk", "examples/plugins/batched-output"];

/** A plugin directory or spec the campaigns cannot use: the CLI prints the message as one line. */
export class PluginSpecError extends Error {}

export interface PluginSpec {
  /** The protocol's name (the spec's `protocol` line). */
  readonly name: string;
  /** As given on the command line (relative to the repository root when inside it), for reproduction commands. */
  readonly plugin: string;
  /** The spec file (absolute). */
  readonly spec: string;
  readonly family: Family;
  /** The spec's f. */
  readonly f: number;
}

export interface CompiledPlugin extends PluginSpec {
  /** The generated package (src/index.ts, dist/index.js), next to a node_modules/ linking the plugin. */
  readonly dir: string;
  /** The generated source. */
  readonly source: string;
}

/** `arg` is a plugin directory (its example.egida) or a `.egida` file in one. */
function specPath(arg: string): string {
  const abs = resolve(arg);
  if (!existsSync(abs)) throw new PluginSpecError(`--plugin ${arg}: no such directory or file`);
  const spec = statSync(abs).isDirectory() ? join(abs, "example.egida") : abs;
  if (!spec.endsWith(".egida") || !existsSync(spec)) throw new PluginSpecError(`--plugin ${arg}: expected a plugin directory with an example.egida, or a .egida file`);
  return spec;
}

/** Name, family and f of the spec, parsed with the plugins its egida.config.json names (what `compile` reads). */
export async function pluginSpec(arg: string): Promise<PluginSpec> {
  const spec = specPath(arg);
  const { registry, diagnostics } = await loadRegistry(dirname(spec));
  const bad = diagnostics.find((d) => d.severity === "error");
  if (bad !== undefined) throw new PluginSpecError(`--plugin ${arg}: ${bad.file}: ${bad.message}`);
  const parsed = parseSpec(readFileSync(spec, "utf8"), spec, registry);
  if (parsed.ir === null) {
    const d = parsed.diagnostics.find((x) => x.severity === "error");
    throw new PluginSpecError(`--plugin ${arg}: ${spec}: ${d?.message ?? "does not parse"}`);
  }
  const rel = relative(ROOT, resolve(arg));
  return {
    name: parsed.ir.name,
    plugin: rel.startsWith("..") || isAbsolute(rel) ? resolve(arg) : rel,
    spec,
    family: familyOf(classify(parsed.ir, registry).family),
    f: parsed.ir.options.f,
  };
}

/**
 * The spec text with its header's timer periods replaced (its f kept):
 * `protocol x ( f = 2, checkpoint every 6ms, flush every 2ms )`.
 */
export function withTimerPeriods(text: string, o: Pick<ProtocolOptions, "checkpointIntervalMs" | "flushIntervalMs">): string {
  const m = /^(protocol\s+[\w-]+)[ \t]*(?:\(([^)]*)\))?/m.exec(text);
  if (m === null) throw new PluginSpecError("the spec has no `protocol <name>` line");
  const kept = (m[2] ?? "").split(",").map((s) => s.trim()).filter((s) => /^f\s*=/.test(s));
  const header = `${m[1]} ( ${[...kept, `checkpoint every ${o.checkpointIntervalMs}ms`, `flush every ${o.flushIntervalMs}ms`].join(", ")} )`;
  return text.slice(0, m.index) + header + text.slice(m.index + m[0].length);
}

export interface CompileOptions {
  /** `egida-gen compile --emit` (default inline). */
  readonly emit?: "inline" | "modular";
  /** Timer periods over the spec's own (the simulated campaign's); absent: the spec verbatim. */
  readonly periods?: Pick<ProtocolOptions, "checkpointIntervalMs" | "flushIntervalMs">;
}

/** Compile the plugin directory's spec with `egida-gen compile`, as a user does, into a loadable package. */
export async function compilePlugin(arg: string, o: CompileOptions = {}): Promise<CompiledPlugin> {
  const info = await pluginSpec(arg);
  mkdirSync(CACHE, { recursive: true });
  const config = configEntries(dirname(info.spec));
  const work = mkdtempSync(join(CACHE, `.build-${info.name}-`));
  try {
    let spec = info.spec;
    if (o.periods !== undefined) {
      // A copy of the spec, and a config naming the same plugins from the copy's directory.
      spec = join(work, basename(info.spec));
      writeFileSync(spec, withTimerPeriods(readFileSync(info.spec, "utf8"), o.periods));
      writeFileSync(join(work, "egida.config.json"), `${JSON.stringify(relocatedConfig(config.entries, work))}\n`);
    }
    const out = join(work, "pkg");
    const r = spawnSync(process.execPath, [GEN, "compile", basename(spec), "-o", out, "--emit", o.emit ?? "inline"], {
      cwd: dirname(spec),
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    if (r.status !== 0) {
      const line = r.stderr.split("\n").find((l) => l.includes("error")) ?? r.stderr.trim().split("\n")[0] ?? `exit ${r.status}`;
      throw new PluginSpecError(`--plugin ${info.plugin}: egida-gen compile failed: ${line}`);
    }
    const source = readFileSync(join(out, "src/index.ts"), "utf8");
    // The links go in the directory too: the same source from another copy of the plugin gets its own.
    const hash = createHash("sha256").update(source).update(JSON.stringify(config.entries)).digest("hex").slice(0, 12);
    const dir = join(CACHE, `${info.name}-${o.emit ?? "inline"}-${hash}`);
    if (!existsSync(join(dir, "pkg/dist/index.js"))) {
      const js = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
        fileName: "index.ts",
      });
      mkdirSync(join(out, "dist"));
      writeFileSync(join(out, "dist/index.js"), js.outputText);
      // What `npm install <plugin>` beside the package does: the package imports a medium's store by the plugin's name.
      for (const e of config.entries) {
        if (e.dir === null || e.name === null || existsSync(join(work, "node_modules", e.name))) continue;
        mkdirSync(dirname(join(work, "node_modules", e.name)), { recursive: true });
        symlinkSync(e.dir, join(work, "node_modules", e.name), "dir");
      }
      try {
        renameSync(work, dir);
      } catch {
        // Another campaign or test built the same source meanwhile: its copy is identical.
      }
    }
    return { ...info, dir: join(dir, "pkg"), source };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface ConfigEntry {
  /** As the config writes it. */
  readonly entry: string;
  /** The plugin's package directory, where it resolves from the config's directory (null: it does not). */
  readonly dir: string | null;
  /** Its package.json `name`. */
  readonly name: string | null;
}

/** The entries of the egida.config.json that applies to `specDir` (the compiler's lookup), each resolved as the loader resolves it. */
function configEntries(specDir: string): { configDir: string; entries: ConfigEntry[] } {
  const loaded = loadConfig(specDir);
  if (loaded.path === null) throw new PluginSpecError(`${specDir}: no egida.config.json naming a plugin (looked up from the spec's directory to the root)`);
  const configDir = dirname(loaded.path);
  const entries = loaded.config.plugins.map((entry): ConfigEntry => {
    let dir: string | null = null;
    if (entry.startsWith(".")) dir = resolve(configDir, entry);
    else {
      try {
        dir = dirname(createRequire(join(configDir, "egida.config.json")).resolve(`${entry}/package.json`));
      } catch {
        // unresolvable here: egida-gen compile reports it in its one line
      }
    }
    const pkg = dir === null ? null : join(dir, "package.json");
    const name = pkg !== null && existsSync(pkg) ? (JSON.parse(readFileSync(pkg, "utf8")) as { name?: unknown }).name : null;
    return { entry, dir, name: typeof name === "string" && name !== "" ? name : null };
  });
  return { configDir, entries };
}

/** The config for a copy of the spec in `to`: each entry by a relative path to the directory it resolved to. */
function relocatedConfig(entries: readonly ConfigEntry[], to: string): { plugins: string[] } {
  return { plugins: entries.map((e) => (e.dir === null ? e.entry : `./${relative(to, e.dir) || "."}`)) };
}

/** The compiled package's factory. */
export async function loadCompiled(c: CompiledPlugin): Promise<ProtocolFactory> {
  const mod = (await import(pathToFileURL(join(c.dir, "dist/index.js")).href)) as { protocol?: unknown };
  if (mod.protocol === undefined) throw new Error(`${c.dir}/dist/index.js: no \`protocol\` export`);
  return mod.protocol as ProtocolFactory;
}

/**
 * The simulated campaign's entries for `--plugin` arguments: one per plugin
 * and emitter back end (inline, modular: `egida-gen compile --emit`), with the
 * campaign's timer periods. `composer` and `generated` build only the
 * built-in specs (the dev composer has no plugin blocks, generated/ is
 * checked in): listed in `notApplicable`.
 */
const SIM_PERIODS = { checkpointIntervalMs: CAMPAIGN_OPTIONS.checkpointIntervalMs ?? 6, flushIntervalMs: CAMPAIGN_OPTIONS.flushIntervalMs ?? 2 };

export async function pluginEntries(args: readonly string[], backends: readonly Backend[]): Promise<{ protocols: ProtocolEntry[]; notApplicable: string[] }> {
  const protocols: ProtocolEntry[] = [];
  const notApplicable: string[] = [];
  for (const arg of args) {
    const info = await pluginSpec(arg);
    for (const backend of backends) {
      if (backend !== "inline" && backend !== "modular") {
        notApplicable.push(`${info.name} (${backend}): a plugin's protocol is built by egida-gen compile (--backend inline or modular)`);
        continue;
      }
      protocols.push({
        name: info.name,
        backend,
        plugin: info.plugin,
        family: info.family,
        f: info.f,
        source: relative(ROOT, info.spec),
        load: async () => loadCompiled(await compilePlugin(arg, { emit: backend, periods: SIM_PERIODS })),
      });
    }
  }
  return { protocols, notApplicable };
}
