/**
 * The checked-in packages: `generated/<name>/` for every spec in `specs/`
 * that the block library implements. `npm run regen` writes them; the golden
 * test regenerates them in memory and fails on any difference (protobuf-es
 * style: generated code is reviewed in diffs, CI proves it is current).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NOT_SUPPORTED_YET } from "../blocks/select.js";
import { loadRegistry } from "../frontend.js";
import type { ProtocolIR } from "../ir/types.js";
import { compile } from "../pipeline/compile.js";
import { CodegenError } from "./code.js";
import type { PackageFiles, PackageOptions } from "./package.js";
import type { EmitInput } from "./types.js";

export interface RegenEntry {
  readonly spec: string;
  /** `generated/<name>` (relative to the repository root). */
  readonly dir: string;
  readonly input: EmitInput;
  readonly files: PackageFiles;
}

export interface RegenResult {
  readonly packages: readonly RegenEntry[];
  /** Specs the block library cannot implement yet, with the reason (no package is checked in for them). */
  readonly unsupported: ReadonlyArray<{ readonly spec: string; readonly reason: string }>;
}

/** The repository URL of the workspace's package.json: the checked-in packages live in the same repository. */
function repositoryUrl(root: string): string | undefined {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { repository?: { url?: unknown } };
  return typeof pkg.repository?.url === "string" ? pkg.repository.url : undefined;
}

/** Regenerate every package in memory. `root` is the repository root. */
export async function regenerate(root: string): Promise<RegenResult> {
  const specsDir = join(root, "specs");
  const { registry, diagnostics: regDiags } = await loadRegistry(specsDir);
  if (regDiags.some((d) => d.severity === "error")) throw new CodegenError(`specs/: registry errors: ${regDiags.map((d) => d.message).join("; ")}`);
  const repoUrl = repositoryUrl(root);
  const packages: RegenEntry[] = [];
  const unsupported: Array<{ spec: string; reason: string }> = [];
  for (const file of readdirSync(specsDir).filter((f) => f.endsWith(".egida")).sort()) {
    const spec = `specs/${file}`;
    const dir = (name: string) => `generated/${name}`;
    // The package's repository directory is named after the protocol, known once the spec is lowered.
    const options = (ir: ProtocolIR): PackageOptions => ({ emit: "inline", ...(repoUrl === undefined ? {} : { repository: { url: repoUrl, directory: dir(ir.name) } }) });
    const c = await compile(join(specsDir, file), { file: spec, registry, generate: { kind: "package", options } });
    const errors = c.diagnostics.filter((d) => d.severity === "error");
    // A construct the block library does not implement yet (a checker error: the checker reports selection's refusals): skipped.
    if (c.ir && errors.length > 0 && errors.every((d) => d.code === NOT_SUPPORTED_YET)) {
      unsupported.push({ spec, reason: errors.map((d) => d.message).join("; ") });
      continue;
    }
    if (!c.ir || errors.length > 0 || !c.output?.files) throw new CodegenError(`${spec} has errors: ${errors.map((d) => d.message).join("; ")}`);
    packages.push({ spec, dir: dir(c.ir.name), input: c.output.input, files: c.output.files });
  }
  return { packages, unsupported };
}
