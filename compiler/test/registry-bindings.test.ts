/**
 * The registry binds each built-in value to the block files whose manifests
 * implement it (registry/implemented-by.ts), and every manifest's
 * `implements` names something that exists.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BLOCK_MANIFESTS } from "../src/blocks/block-manifests.js";
import { BUILTIN_BLOCKS } from "../src/registry/builtin.js";
import { builtinRegistry } from "../src/registry/builtin-registry.js";
import { blocksImplementing, blocksOfModule } from "../src/registry/implemented-by.js";
import type { PaperModule } from "../src/registry/types.js";

/**
 * Built-in values no block implements: selection refuses them with a hint,
 * and docs/protocols.md lists each refusal. Every entry is checked below (no
 * block, and the refusal documented), so the list cannot go stale.
 */
const NOT_IMPLEMENTED: ReadonlyArray<{ variable: string; id: string; documented: RegExp }> = [
  // Optimistic logging piggybacks a vector clock; a logical clock is refused (and E-dependency-tracking-unneeded elsewhere).
  { variable: "pb-value", id: "logical-clock", documented: /Refused: `Piggyback logical clock`/ },
];

const PAPER_MODULES: readonly PaperModule[] = [
  "EventHandler", "Determinant", "LogEventDeterminant", "LogEventInfo", "HowToLog", "WhereToLog", "StableStorage", "VolatileStorage",
  "HowToOutputCommit", "PiggybackLogging", "PiggybackCheckpointing", "Checkpoint", "HowToCheckpoint", "CollectDeterminants", "OrphanDetection",
];

describe("built-in values are bound to blocks", () => {
  const protocols = readFileSync(fileURLToPath(new URL("../../docs/protocols.md", import.meta.url)), "utf8");

  for (const b of BUILTIN_BLOCKS) {
    const gap = NOT_IMPLEMENTED.find((n) => n.variable === b.variable && n.id === b.id);
    it(`${b.variable} \`${b.id}\`: ${gap ? "no block yet, and the refusal is documented" : "implemented by a block"}; no runtime export name`, () => {
      expect(b.binding).toBeUndefined();
      if (gap) {
        expect(blocksImplementing(b.variable, b.id)).toEqual([]);
        expect(protocols).toMatch(gap.documented);
      } else expect(blocksImplementing(b.variable, b.id).length).toBeGreaterThan(0);
    });
  }
});

describe("every manifest's implements names a registered value or a paper module", () => {
  const registry = builtinRegistry();
  for (const [file, m] of Object.entries(BLOCK_MANIFESTS)) {
    it(file, () => {
      expect(m.implements.some((i) => "module" in i), `${file} names the paper module it is part of`).toBe(true);
      for (const i of m.implements) {
        if ("module" in i) expect(PAPER_MODULES).toContain(i.module);
        else expect(registry.get(i.variable, i.value), `${file}: ${i.variable} \`${i.value}\` is not a registered value`).toBeDefined();
      }
    });
  }

  it("every paper module a block names finds its blocks", () => {
    expect(blocksOfModule("HowToOutputCommit")).toEqual(["causal/commit.ts", "ckpt-only/output.ts", "commit/independent.ts", "optimistic/commit.ts", "optimistic/finish.ts"]);
  });
});
