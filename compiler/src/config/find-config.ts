/**
 * egida.config.json lookup: from the spec's directory upward to the
 * filesystem root; the first file found applies (like .npmrc or tsconfig
 * discovery). No config means built-in blocks only.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Diagnostic } from "../diagnostics/types.js";
import { describeAjvError, relevantErrors, validator } from "./schemas.js";
import { locateJsonPath } from "./json-locate.js";

export const CONFIG_FILE = "egida.config.json";

export interface EgidaConfig {
  readonly plugins: readonly string[];
}

export interface LoadedConfig {
  /** Absolute path of the config file, or null if none was found. */
  readonly path: string | null;
  readonly text: string | null;
  readonly config: EgidaConfig;
  readonly diagnostics: readonly Diagnostic[];
}

export function findConfig(startDir: string): string | null {
  let dir = resolve(startDir);
  for (;;) {
    const candidate = join(dir, CONFIG_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

export function loadConfig(startDir: string): LoadedConfig {
  const path = findConfig(startDir);
  const empty: EgidaConfig = { plugins: [] };
  if (!path) return { path: null, text: null, config: empty, diagnostics: [] };
  const fail = (d: Omit<Diagnostic, "severity" | "file">, text: string | null): LoadedConfig => ({
    path,
    text,
    config: empty,
    diagnostics: [{ severity: "error", file: path, ...d }],
  });
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e: unknown) {
    return fail({ code: "E-config", message: `cannot read ${CONFIG_FILE}: ${(e as Error).message}`, loc: { line: 1, column: 1, offset: 0, endOffset: 0 } }, null);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e: unknown) {
    return fail({ code: "E-config", message: `${CONFIG_FILE} is not valid JSON: ${(e as Error).message}`, loc: locateJsonPath(text, ""), hint: "fix the JSON syntax" }, text);
  }
  const validate = validator("config");
  if (!validate(json)) {
    const diagnostics = relevantErrors(validate.errors).map((e): Diagnostic => {
      const { path: pointer, message } = describeAjvError(e);
      return {
        severity: "error",
        code: "E-config",
        message: `${CONFIG_FILE}: ${message}`,
        file: path,
        path: pointer,
        loc: locateJsonPath(text, e.instancePath),
        hint: 'the config looks like { "plugins": ["egida-plugin-name"] }',
      };
    });
    return { path, text, config: empty, diagnostics };
  }
  return { path, text, config: { plugins: (json as { plugins?: string[] }).plugins ?? [] }, diagnostics: [] };
}
