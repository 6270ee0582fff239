/**
 * The block manifests (compiler/src/blocks/manifest.ts): each block file
 * declares what it reads and implements, and the declaration matches the
 * code; the manifest reaches generated code only as the block's purpose.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { HOOK_NAMES } from "../src/blocks/hooks.js";
import { BLOCK_MANIFESTS } from "../src/blocks/block-manifests.js";
import type { BlockManifest } from "../src/blocks/manifest.js";
import { analyzeLibrary } from "../src/codegen/library-analyze.js";
import { blockLibrary } from "../src/codegen/pipeline.js";
import { compile } from "../src/pipeline/compile.js";
import { builtinRegistry } from "../src/registry/builtin-registry.js";

const BLOCKS = fileURLToPath(new URL("../src/blocks/", import.meta.url));
const source = (file: string): string => readFileSync(join(BLOCKS, file), "utf8");
/** The exported functions of a block file: `init` and its hooks. */
const functions = (file: string): Set<string> => new Set([...source(file).matchAll(/^export (?:async )?function (\w+)/gm)].map((r) => r[1]!));
const entries = Object.entries(BLOCK_MANIFESTS) as Array<[string, BlockManifest]>;

describe("every block file declares a manifest that matches its code", () => {
  it("there are blocks", () => {
    expect(entries.length).toBeGreaterThan(40);
  });

  for (const [file, m] of entries) {
    describe(file, () => {
      it("purpose is one line; implements something", () => {
        expect(m.purpose.length).toBeGreaterThan(10);
        expect(m.purpose).not.toMatch(/\n/);
        expect(m.implements.length).toBeGreaterThan(0);
      });

      it("params are exactly the param<T>(\"key\") reads of the file, with T", () => {
        const reads: Record<string, string> = {};
        for (const r of source(file).matchAll(/param<(\w+)>\("([^"]+)"\)/g)) reads[r[2]!] = r[1]!;
        expect(source(file)).not.toMatch(/param\("/); // an untyped read would escape the declaration
        expect({ ...m.params }).toEqual(reads);
      });

      it("orders only chains it has a function in, relative to blocks that have one too", () => {
        const fns = functions(file);
        for (const [chain, c] of Object.entries(m.order)) {
          expect(chain === "init" || (HOOK_NAMES as readonly string[]).includes(chain), `${chain} is not a chain`).toBe(true);
          expect(fns.has(chain), `${file} orders ${chain} but has no ${chain} function`).toBe(true);
          for (const other of [...(c?.after ?? []), ...(c?.before ?? [])]) expect(functions(other).has(chain), `${file}: ${other} has no ${chain} function`).toBe(true);
        }
      });

      it("the checkpoint state keys it writes are declared", () => {
        const keys = new Set([...source(file).matchAll(/state\["([^"]+)"\] =/g)].map((r) => r[1]!));
        expect(new Set(m.owns.state ?? [])).toEqual(keys);
      });
    });
  }
});

describe("the manifest in the library and in generated code", () => {
  it("the precompiled library carries each block's purpose", () => {
    const lib = blockLibrary();
    for (const [file, m] of entries) expect(lib.block(file).purpose, file).toBe(m.purpose);
  });

  for (const emit of ["inline", "modular"] as const) {
    it(`the ${emit} emitter names each block's file and purpose, and never copies a manifest`, async () => {
      const spec = fileURLToPath(new URL("../../specs/optimistic-exchange-vc.egida", import.meta.url));
      const c = await compile(spec, { registry: builtinRegistry(), generate: { kind: "module", emit } });
      const code = c.output?.source ?? "";
      expect(code).toContain("class ");
      expect(code).not.toMatch(/BlockManifest|const manifest|implements: \[\{/);
      // Each spliced block names its file and its purpose.
      for (const b of c.output!.input.blocks) expect(code).toContain(`// block ${b.file} (${b.id}): ${BLOCK_MANIFESTS[b.file]!.purpose}\n`);
    });
  }

  it("the analysis refuses a manifest that is not a literal, or a purpose of two lines", () => {
    const base = readFileSync(join(BLOCKS, "hooks.ts"), "utf8");
    const kernel = readFileSync(join(BLOCKS, "kernel.ts"), "utf8");
    const block = (manifest: string) =>
      new Map([
        ["hooks.ts", base],
        ["kernel.ts", kernel],
        ["x.ts", `export interface Fields { n: number }\nexport function init(s: { n: number }): void { s.n = 0; }\n${manifest}`],
      ]);
    const err = (manifest: string): string => {
      const b = analyzeLibrary("fixture", block(manifest)).blocks["x.ts"];
      return b && "error" in b ? b.error : "";
    };
    expect(err('const m = { purpose: "p" };\nexport const manifest = m;')).toMatch(/manifest must be an object literal/);
    expect(err('export const manifest = { purpose: "a\\nb" };')).toMatch(/one line/);
    expect(err('export const manifest = { purpose: 3 };')).toMatch(/purpose must be a string literal/);
    const ok = analyzeLibrary("fixture", block('export const manifest = { purpose: "counts" };')).blocks["x.ts"];
    expect(ok && !("error" in ok) ? ok.purpose : undefined).toBe("counts");
  });
});
