/**
 * `egida-gen init`: the files of a new application project, rendered from
 * `templates/init/*.hbs` with Handlebars (same escaping rules as
 * codegen/package.ts: `{{x}}` everywhere, triple-stash only for JSON
 * literals made here), plus the spec as `protocol.egida`.
 *
 * Templates and the bundled specs live at the repository's top level
 * (`templates/`, `specs/`); a packed egida-gen carries copies in its own
 * directory (made by `prepack`), which win when present.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { templateSet } from "../codegen/template-set.js";
import { parseSpec } from "../frontend.js";
import type { Registry } from "../registry/types.js";

/** src/init/scaffold.ts and dist/init/scaffold.js both sit two levels below the package root. */
function assetDir(name: string): string {
  const packed = fileURLToPath(new URL(`../../${name}/`, import.meta.url));
  return existsSync(packed) ? packed : fileURLToPath(new URL(`../../../${name}/`, import.meta.url));
}

export const INIT_TEMPLATES_DIR = join(assetDir("templates"), "init");
export const SPECS_DIR = assetDir("specs");

/** The spec a new project gets without `--protocol`: the paper's sender-based pessimistic logging (Figure 4a). */
export const DEFAULT_SPEC = "fig4a-sby";

/** Test runner range the project uses (devDependency); fixed here so outputs are stable. */
export const VITEST_RANGE = "^4.1.12";

/** Names of the bundled specs (`specs/<name>.egida`), sorted. */
export function bundledSpecs(): string[] {
  if (!existsSync(SPECS_DIR)) return [];
  return readdirSync(SPECS_DIR)
    .filter((f) => f.endsWith(".egida"))
    .map((f) => f.slice(0, -".egida".length))
    .sort();
}

export interface ScaffoldView {
  /** npm package name of the project. */
  readonly name: string;
  readonly protocolName: string;
  readonly family: string;
  readonly egidaGenVersion: string;
  readonly runtimeVersion: string;
  readonly typescriptRange: string;
  readonly typesNodeRange: string;
  /** The spec, as protocol.egida will hold it. */
  readonly specSource: string;
}

/** Project-relative path → contents, sorted by path. */
export type ScaffoldFiles = ReadonlyMap<string, string>;

/** Render every file of the project (pure: no writes). */
export function renderScaffold(v: ScaffoldView): ScaffoldFiles {
  const view = {
    name: v.name,
    protocolName: v.protocolName,
    family: v.family,
    egidaGenVersion: v.egidaGenVersion,
    runtimeVersion: v.runtimeVersion,
    json: {
      name: JSON.stringify(v.name),
      description: JSON.stringify(`A message-passing application that survives crashes under the ${v.protocolName} rollback-recovery protocol (egida)`),
      runtimeVersion: JSON.stringify(v.runtimeVersion),
      egidaGenVersion: JSON.stringify(v.egidaGenVersion),
      typescriptVersion: JSON.stringify(v.typescriptRange),
      typesNodeVersion: JSON.stringify(v.typesNodeRange),
      vitestVersion: JSON.stringify(VITEST_RANGE),
    },
  };
  const files = new Map<string, string>();
  for (const tpl of templates.list()) files.set(outputPath(tpl), templates.render(tpl, view));
  files.set("protocol.egida", v.specSource.replace(/\r\n?/g, "\n").replace(/\n*$/, "\n"));
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `gitignore.hbs` → `.gitignore`: npm pack would drop (or rename) a template named `.gitignore`. */
function outputPath(tpl: string): string {
  const out = tpl.replace(/\.hbs$/, "");
  return out === "gitignore" ? ".gitignore" : out;
}

const templates = templateSet(INIT_TEMPLATES_DIR);

/**
 * npm package name for a project directory's basename: lower case, only
 * characters npm allows, never empty.
 */
export function projectName(base: string): string {
  const name = base
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, "-")
    .replace(/^[._-]+/, "")
    .replace(/-+$/, "")
    .slice(0, 214);
  return name === "" ? "egida-app" : name;
}

/**
 * The spec text with the protocol's name in its header. Without a header, a
 * spec is named after its file; as `protocol.egida` it would become
 * `protocol`. So a spec whose name does not survive the move gets
 * `protocol NAME` first (or the name added to a nameless header); the
 * result is parsed again to make sure. Null if no rewrite keeps the name.
 */
export function withNameHeader(source: string, name: string, registry: Registry): string | null {
  const keepsName = (text: string): boolean => {
    const r = parseSpec(text, "protocol.egida", registry);
    return r.ir !== null && r.ir.name === name && !r.diagnostics.some((d) => d.severity === "error");
  };
  if (keepsName(source)) return source;
  const candidates = [
    `protocol ${name}\n${source}`,
    // A header with options only: `protocol ( f = 2 )` after any comments.
    source.replace(/^((?:\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*)protocol(?=\s*\()/i, `$1protocol ${name}`),
  ];
  return candidates.find(keepsName) ?? null;
}
