/**
 * Plugins: each entry of egida.config.json's `plugins` is a package name
 * (resolved from the config's directory, as Node would from a file there) or
 * a relative path. Its module must export `blocks: BlockDef[]`, validated
 * against schema/block.schema.json. Every failure is a diagnostic with a hint.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Diagnostic } from "../diagnostics/types.js";
import type { BlockDef } from "../registry/types.js";
import { locateJsonPath } from "./json-locate.js";
import type { LoadedConfig } from "./find-config.js";
import { describeAjvError, relevantErrors, validator } from "./schemas.js";

export interface LoadedPlugins {
  readonly blocks: readonly BlockDef[];
  readonly diagnostics: readonly Diagnostic[];
}

function resolvePlugin(spec: string, configDir: string): string {
  if (spec.startsWith("./") || spec.startsWith("../") || isAbsolute(spec)) {
    const abs = resolve(configDir, spec);
    // A directory or file path: let require.resolve apply package.json "exports"/"main".
    return createRequire(resolve(configDir, "egida.config.json")).resolve(abs);
  }
  return createRequire(resolve(configDir, "egida.config.json")).resolve(spec);
}

/** The name and version of the package a plugin's entry file belongs to (the nearest package.json with both). */
function packageOf(entry: string): { name: string; version: string; dir: string } | undefined {
  for (let dir = dirname(entry); ; ) {
    const pj = join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        const { name, version } = JSON.parse(readFileSync(pj, "utf8")) as { name?: unknown; version?: unknown };
        if (typeof name === "string" && typeof version === "string") return { name, version, dir };
      } catch {
        return undefined; // not ours to judge: the plugin loaded, only the dependency range is unknown
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export async function loadPlugins(config: LoadedConfig): Promise<LoadedPlugins> {
  if (!config.path || config.config.plugins.length === 0) return { blocks: [], diagnostics: [] };
  const configPath = config.path;
  const configDir = dirname(configPath);
  const blocks: BlockDef[] = [];
  const diagnostics: Diagnostic[] = [];
  const validate = validator("block");
  for (const [index, name] of config.config.plugins.entries()) {
    const pointer = `/plugins/${index}`;
    const loc = config.text ? locateJsonPath(config.text, pointer) : undefined;
    const report = (message: string, hint: string, code = "E-plugin") =>
      diagnostics.push({ severity: "error", code, message, file: configPath, path: pointer, ...(loc ? { loc } : {}), hint });
    let resolved: string;
    try {
      resolved = resolvePlugin(name, configDir);
    } catch {
      report(`plugin \`${name}\` not found from ${configDir}`, `install it next to egida.config.json (npm install ${name}) or fix the name`);
      continue;
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
    } catch (e: unknown) {
      report(`plugin \`${name}\` failed to load: ${e instanceof Error ? e.message : String(e)}`, "check that the plugin is a valid ES module or CommonJS package");
      continue;
    }
    const exported = mod["blocks"] ?? (mod["default"] as Record<string, unknown> | undefined)?.["blocks"];
    if (exported === undefined) {
      report(`plugin \`${name}\` does not export \`blocks\``, "a plugin exports `blocks: BlockDef[]` (see egida-gen's schema/block.schema.json)");
      continue;
    }
    if (!validate(exported)) {
      // anyOf [binding, block]: the pair is one message, not one per branch.
      const messages = relevantErrors(validate.errors, 5).map((e) => describeAjvError(e).message);
      for (const message of messages) {
        const asBinding = message.replace(/`block`$/, "`binding`");
        const both = asBinding.endsWith("`binding`") && messages.includes(asBinding) && messages.includes(asBinding.replace(/`binding`$/, "`block`"));
        if (both && message !== asBinding) continue; // reported with its `binding` twin
        if (message.endsWith("must match a schema in anyOf") && messages.some((m) => m.endsWith("`binding`"))) continue; // the same pair, said vaguely
        report(
          `plugin \`${name}\`: blocks${both ? asBinding.replace(/`binding`$/, "`binding` or `block`") : message}`,
          "each block needs variable, id, spellings, module, description, and binding {module, export} or block \"./file.ts\"",
        );
      }
      continue;
    }
    const pkg = packageOf(resolved);
    // A block file is relative to the plugin's package root (its entry's directory without a package.json).
    const root = pkg?.dir ?? dirname(resolved);
    for (const b of exported as BlockDef[]) {
      const blockFile = b.block !== undefined ? resolve(root, b.block) : undefined;
      if (blockFile !== undefined && !existsSync(blockFile)) {
        report(`plugin \`${name}\`: ${b.variable} \`${b.id}\` names block file ${b.block}, which does not exist (${blockFile})`, "ship the block file in the plugin package, its path relative to the package root");
        continue;
      }
      blocks.push({ ...b, origin: name, ...(pkg ? { package: { name: pkg.name, version: pkg.version } } : {}), ...(blockFile !== undefined ? { blockFile } : {}) });
    }
  }
  return { blocks, diagnostics };
}
