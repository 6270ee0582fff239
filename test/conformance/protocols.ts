/**
 * Which protocols the campaign runs, and how each is built.
 *
 * Backends, all from the same spec:
 *  - `inline` / `modular`: egida-gen's two emitters, run in memory on the
 *    spec with the campaign's timer options (short checkpoint and flush
 *    periods, so crashes land around checkpoints in a short run), written
 *    under .egida-tmp/ (gitignored) and imported;
 *  - `composer`: the block library's dev composer (the reference);
 *  - `generated`: the checked-in generated/<name>/src/index.ts, verbatim
 *    (its spec's own timer periods).
 * `none` is the baseline: excluded unless asked for by name.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, existsSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { NOT_SUPPORTED_YET, UnsupportedProtocolError, selectBlocks } from "../../compiler/src/blocks/select.js";
import { emitSource } from "../../compiler/src/codegen/package.js";
import { blockLibrary, emitInputFor } from "../../compiler/src/codegen/pipeline.js";
import type { Library } from "../../compiler/src/codegen/library.js";
import { loadRegistry, parseSpec } from "../../compiler/src/frontend.js";
import type { CheckedProtocol, ProtocolOptions } from "../../compiler/src/ir/types.js";
import { checkProtocol } from "../../compiler/src/passes/check.js";
import { classify } from "../../compiler/src/passes/classify.js";
import { noneProtocol } from "../../runtime-core/src/protocols/none.js";
import type { ProtocolFactory } from "../../runtime-core/src/spi.js";
import type { Family } from "./oracles.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

/**
 * Protocols that pass the full campaign (docs/campaign.md); `npm test` runs
 * its slice and the differential test on these. A protocol joins once
 * `npm run campaign -- --protocol P --backend inline,modular,composer` is clean.
 */
export const CRASH_PROVEN: readonly string[] = [
  "receiver-based-pessimistic",
  "fig4a-sby",
  "fig4b-f-replicated",
  "coordinated-checkpointing",
  "communication-induced-checkpointing",
  "independent-checkpointing",
  "family-based-causal",
  "fig3b-hybrid-causal",
  "fig3a-damani-garg",
  "fbl-stability-vector",
  "optimistic-checkpointed",
  "optimistic-rollback-checkpoint",
  "fbl-stability-matrix",
  "pessimistic-coordinated",
  "pessimistic-communication-induced",
  "fig3b-coordinated-commit",
  "optimistic-exchange-vc",
  "pessimistic-diskless",
  "fbl-async-reads",
  "coordinated-diskless",
  "causal-diskless",
];

/**
 * Crash-proven protocols whose blocks are those of another crash-proven spec
 * with only a storage medium changed: `npm test` runs them in the campaign
 * slice (on the real replicated store) but not in the differential and
 * synchronous-delivery tests, which run on the stand-in storage and so would
 * repeat their base spec's runs (npm test's time budget).
 */
export const SLICE_ONLY: Readonly<Record<string, string>> = {
  "causal-diskless": "family-based-causal",
};

export const BACKENDS = ["inline", "modular", "composer", "generated"] as const;
export type Backend = (typeof BACKENDS)[number];

export interface ProtocolEntry {
  readonly name: string;
  readonly backend: Backend | "builtin";
  /** Compiled from this plugin directory (`--plugin`, plugin-protocols.ts); absent for the built-in specs. */
  readonly plugin?: string;
  readonly family: Family;
  readonly f: number;
  /** Where it comes from (spec file or package). */
  readonly source: string;
  load(): Promise<ProtocolFactory>;
}

export interface Discovery {
  readonly protocols: readonly ProtocolEntry[];
  /** Specs no backend can build yet, with why. */
  readonly unsupported: ReadonlyArray<{ readonly name: string; readonly why: string }>;
}

const ROOT = join(import.meta.dirname, "../..");
const SPECS = join(ROOT, "specs");
const CACHE = join(ROOT, ".egida-tmp", "conformance");

/** Timer periods for campaign runs: jobs last tens of virtual ms, so checkpoint and flush often. */
export const CAMPAIGN_OPTIONS: Partial<ProtocolOptions> = { checkpointIntervalMs: 6, flushIntervalMs: 2 };

export const NONE_ENTRY: ProtocolEntry = {
  name: "none",
  backend: "builtin",
  family: "none",
  f: 0,
  source: "runtime-core/src/protocols/none.ts",
  load: () => Promise.resolve(noneProtocol),
};

export function familyOf(f: CheckedProtocol["classification"]["family"]): Family {
  return f.startsWith("checkpoint-") ? "checkpoint-only" : (f as Family);
}

/**
 * The composer's factory is typed against the runtime's published `spi`
 * (dist), the harness against its source: the same shapes, but two
 * declarations of the const enum FrameKind, which TypeScript keeps apart.
 */
function asFactory(f: unknown): ProtocolFactory {
  return f as ProtocolFactory;
}

let lib: Library | null = null;

/** Emit `checked` with `emit` into .egida-tmp and import it (cached by content). */
async function emitAndImport(checked: CheckedProtocol, text: string, spec: string, emit: "inline" | "modular"): Promise<ProtocolFactory> {
  lib ??= blockLibrary();
  const src = emitSource(lib, emitInputFor(checked, text, spec), emit);
  const hash = createHash("sha256").update(src).digest("hex").slice(0, 12);
  const dir = join(CACHE, `${checked.ir.name}-${emit}-${hash}`);
  const file = join(dir, "index.ts");
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    // Through a rename: test files in parallel workers emit the same protocols, and one must never
    // import another's half-written file.
    const part = `${file}.${process.pid}.part`;
    writeFileSync(part, src);
    renameSync(part, file);
  }
  const mod = (await import(pathToFileURL(file).href)) as { protocol?: unknown };
  if (mod.protocol === undefined) throw new Error(`${file}: no \`protocol\` export`);
  return asFactory(mod.protocol);
}

export interface DiscoverOptions {
  readonly backends: readonly Backend[];
  /** Overrides the specs' timer periods for inline/modular/composer (default CAMPAIGN_OPTIONS). */
  readonly options?: Partial<ProtocolOptions>;
}

export async function discoverProtocols(o: DiscoverOptions): Promise<Discovery> {
  const protocols: ProtocolEntry[] = [];
  const unsupported: Array<{ name: string; why: string }> = [];
  const { registry } = await loadRegistry(SPECS);
  const specs = readdirSync(SPECS).filter((f) => f.endsWith(".egida")).sort();
  for (const file of specs) {
    const spec = `specs/${file}`;
    const text = readFileSync(join(SPECS, file), "utf8");
    const parsed = parseSpec(text, spec, registry);
    if (!parsed.ir) continue;
    const errors = [...parsed.diagnostics, ...checkProtocol(parsed.ir, registry, spec)].filter((d) => d.severity === "error");
    if (errors.length > 0) {
      // The checker runs block selection: a construct not built yet is its error; name it for `--protocol`.
      if (errors.every((d) => d.code === NOT_SUPPORTED_YET)) unsupported.push({ name: parsed.ir.name, why: errors.map((d) => d.message).join("; ") });
      continue;
    }
    const ir = { ...parsed.ir, options: { ...parsed.ir.options, ...(o.options ?? CAMPAIGN_OPTIONS) } };
    const classification = classify(ir, registry);
    const checked: CheckedProtocol = { ir, classification };
    try {
      selectBlocks(checked);
    } catch (e) {
      if (e instanceof UnsupportedProtocolError) {
        unsupported.push({ name: ir.name, why: e.message });
        continue;
      }
      throw e;
    }
    const base = { name: ir.name, family: familyOf(classification.family), f: ir.options.f, source: spec };
    for (const backend of o.backends) {
      if (backend === "composer") protocols.push({ ...base, backend, load: () => Promise.resolve(asFactory(composeFromIR(ir))) });
      else if (backend === "inline" || backend === "modular") protocols.push({ ...base, backend, load: () => emitAndImport(checked, text, spec, backend) });
    }
  }
  if (o.backends.includes("generated")) protocols.push(...(await generatedPackages(registry)));
  return { protocols, unsupported };
}

/** The checked-in packages: generated/<dir>/src/index.ts exporting `protocol`. */
async function generatedPackages(registry: Awaited<ReturnType<typeof loadRegistry>>["registry"]): Promise<ProtocolEntry[]> {
  const dir = join(ROOT, "generated");
  if (!existsSync(dir)) return [];
  const out: ProtocolEntry[] = [];
  for (const d of readdirSync(dir).sort()) {
    const file = join(dir, d, "src", "index.ts");
    if (!existsSync(file)) continue;
    // Family and f from the spec the package was generated from (its header names it).
    const header = readFileSync(file, "utf8").slice(0, 300);
    const m = /from (specs\/[^\s]+\.egida)/.exec(header);
    let family: Family = "none";
    let f = 0;
    if (m) {
      const text = readFileSync(join(ROOT, m[1]!), "utf8");
      const parsed = parseSpec(text, m[1]!, registry);
      if (parsed.ir) {
        family = familyOf(classify(parsed.ir, registry).family);
        f = parsed.ir.options.f;
      }
    }
    out.push({
      name: d,
      backend: "generated",
      family,
      f,
      source: `generated/${d}`,
      load: async () => {
        const mod = (await import(pathToFileURL(file).href)) as { protocol?: unknown };
        if (mod.protocol === undefined) throw new Error(`generated/${d}/src/index.ts: no \`protocol\` export`);
        return asFactory(mod.protocol);
      },
    });
  }
  return out;
}
