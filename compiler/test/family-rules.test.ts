/**
 * Selection from the table of family rules (blocks/family-rules.ts) and the
 * manifests' `requires` (blocks/requires.ts): the table and the library name
 * the same blocks, `requires` covers what each block's `K` reads, and every
 * selection — every spec in specs/ and the sampled spec space — has every
 * block its blocks require, with exactly the parameters their manifests read.
 */
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BLOCK_MANIFESTS } from "../src/blocks/block-manifests.js";
import { FAMILY_RULES } from "../src/blocks/family-rules.js";
import { PLUGIN_PLACES } from "../src/blocks/plugin-blocks.js";
import { BlockRequiresError, checkRequires } from "../src/blocks/requires.js";
import { selectBlocks, UnsupportedProtocolError, type BlockInstance } from "../src/blocks/select.js";
import type { ProtocolIR } from "../src/ir/types.js";
import { classify } from "../src/passes/classify.js";
import { selectForIR } from "../src/dev/select-ir.js";
import { loadSpec } from "../../test/protocols/spec.js";
import { checkIR, FAMILY_DRAWS, familySpecArb, registry, specArb } from "./spec-space.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BLOCKS = join(ROOT, "compiler/src/blocks");
const SPECS = readdirSync(join(ROOT, "specs")).filter((f) => f.endsWith(".egida")).sort();

/** The blocks whose `Fields` a block file imports (`import type { Fields as X } from "<block>"`): what its K reads. */
function fieldsImported(file: string): string[] {
  const text = readFileSync(join(BLOCKS, file), "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/import type \{([^}]*)\} from "([^"]+)"/g)) {
    if (!/\bFields as\b/.test(m[1]!)) continue;
    const target = posix.normalize(posix.join(posix.dirname(file), m[2]!)).replace(/\.js$/, ".ts");
    if (BLOCK_MANIFESTS[target] !== undefined) out.push(target);
  }
  return out;
}

/** What a selection must satisfy, checked here independently of selectBlocks' own check. */
function expectComplete(what: string, blocks: readonly BlockInstance[]): void {
  const files = new Set(blocks.map((b) => b.file));
  for (const b of blocks) {
    const m = BLOCK_MANIFESTS[b.file]!;
    for (const r of m.requires ?? []) expect(files.has(r), `${what}: ${b.file} requires ${r}`).toBe(true);
    expect(Object.keys(b.params).sort(), `${what}: ${b.file}'s parameters`).toEqual(Object.keys(m.params).sort());
  }
}

describe("the rule table and the library", () => {
  it("every block has a row, and every row names a block", () => {
    const inTable = new Set(FAMILY_RULES.map((r) => r.block));
    expect([...inTable].sort()).toEqual(Object.keys(BLOCK_MANIFESTS).sort());
  });

  it("a row with fixed parameters gives exactly the ones its block's manifest reads", () => {
    for (const r of FAMILY_RULES) {
      if (typeof r.params === "function") continue; // evaluated on the sampled specs below
      expect(Object.keys(r.params ?? {}).sort(), r.block).toEqual(Object.keys(BLOCK_MANIFESTS[r.block]!.params).sort());
    }
  });

  it("a plugin block's place is a block of that family's rows", () => {
    for (const places of Object.values(PLUGIN_PLACES)) {
      for (const [family, block] of Object.entries(places)) {
        expect(FAMILY_RULES.some((r) => r.block === block && (r.families as readonly string[]).includes(family)), `${block} in ${family}`).toBe(true);
      }
    }
  });
});

describe("manifests declare what they require", () => {
  for (const [file, m] of Object.entries(BLOCK_MANIFESTS)) {
    it(`${file}: requires names other blocks, at least every block whose Fields its K reads`, () => {
      const requires = m.requires ?? [];
      for (const r of requires) {
        expect(BLOCK_MANIFESTS[r], `${r} is not a block`).toBeDefined();
        expect(r).not.toBe(file);
      }
      for (const f of fieldsImported(file)) expect(requires, `${file} reads ${f}'s fields`).toContain(f);
    });
  }

  it("the check names the block and what it requires when selection leaves a required block out", () => {
    const blocks = selectForIR(loadSpec("receiver-based-pessimistic.egida"));
    expect(() => checkRequires(blocks)).not.toThrow();
    const without = blocks.filter((b) => b.file !== "log/event-log.ts");
    expect(() => checkRequires(without)).toThrow(BlockRequiresError);
    expect(() => checkRequires(without)).toThrow(/block (commit\/independent|collect\/stable-log|log\/watermark)\.ts requires log\/event-log\.ts/);
  });
});

describe("every selection has what its blocks require", () => {
  for (const spec of SPECS) {
    it(spec, () => {
      let blocks: BlockInstance[];
      try {
        blocks = selectForIR(loadSpec(spec));
      } catch (e) {
        if (e instanceof UnsupportedProtocolError) return; // refused: codegen-golden.test.ts covers which
        throw e;
      }
      expectComplete(spec, blocks);
    });
  }

  it("the sampled spec space: every checker-valid protocol either refused or complete", () => {
    const draws: ProtocolIR[] = [...fc.sample(specArb, { numRuns: 10_000, seed: 3 }), ...fc.sample(familySpecArb, { numRuns: FAMILY_DRAWS, seed: 13 })];
    const selected = new Map<string, number>();
    for (const [i, ir] of draws.entries()) {
      const { checked } = checkIR(ir, { generator: false });
      if (checked === undefined) continue;
      let blocks: BlockInstance[];
      try {
        blocks = selectBlocks({ ir, classification: classify(ir, registry) }, registry);
      } catch (e) {
        if (e instanceof UnsupportedProtocolError) continue;
        throw e; // a BlockRequiresError, or a duplicate block: a bug of the table
      }
      expectComplete(`draw ${i}`, blocks);
      const family = checked.classification.family;
      selected.set(family, (selected.get(family) ?? 0) + 1);
    }
    // The sample reaches every family the table has rows for.
    for (const family of ["pessimistic", "causal", "optimistic"]) expect(selected.get(family) ?? 0, family).toBeGreaterThan(50);
    expect([...selected.keys()].filter((f) => f.startsWith("checkpoint-")).length).toBe(3);
  });
});
