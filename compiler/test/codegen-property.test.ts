/**
 * Property (issue 4): every spec the checker accepts either generates code
 * that type-checks strictly against the runtime SPI in both back ends,
 * deterministically, or is refused by block selection for a construct listed
 * in the table of known refusals in docs/protocols.md ("Known gaps"). A new
 * refusal, or one the table no longer needs, fails this test.
 *
 * Specs are drawn from the grammar's whole space (test/spec-space.ts) and
 * filtered by the checker, not by hand. Bounded: selection runs on every
 * draw (cheap); type-checking on one spec per distinct block configuration,
 * at most TYPECHECKS of them.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { selectBlocks, UnsupportedProtocolError } from "../src/blocks/select.js";
import { emitInline } from "../src/codegen/inline.js";
import { emitModular } from "../src/codegen/modular.js";
import { blockLibrary, emitInputFor } from "../src/codegen/pipeline.js";
import { typeCheck } from "../src/codegen/typecheck.js";
import type { CheckedProtocol } from "../src/ir/types.js";
import { checkIR, constructKey, PROP_SOURCE, specArb } from "./spec-space.js";

const DRAWS = 20_000;
const TYPECHECKS = 16;
const DOCS = join(import.meta.dirname, "../../docs/protocols.md");

/** family → constructs block selection may refuse: the table between the REFUSALS markers of docs/protocols.md. */
function knownRefusals(): Map<string, Set<string>> {
  const text = readFileSync(DOCS, "utf8");
  const body = text.slice(text.indexOf("<!-- REFUSALS-START -->"), text.indexOf("<!-- REFUSALS-END -->"));
  const out = new Map<string, Set<string>>();
  for (const line of body.split("\n")) {
    const cells = line.split(" | ").map((c) => c.replace(/^\|\s*|\s*\|$/g, "").trim());
    if (cells.length < 3 || cells[0] === "family" || /^-+$/.test(cells[0]!)) continue;
    const [family, construct] = cells as [string, string];
    const set = out.get(family) ?? new Set<string>();
    set.add(construct);
    out.set(family, set);
  }
  return out;
}

/** Checkpoint-only families share one selector. */
const familyKey = (c: CheckedProtocol) => (c.classification.family.startsWith("checkpoint-") ? "checkpoint" : c.classification.family);

describe("property: every checker-valid spec generates code that type-checks, or is a known refusal", () => {
  it("both back ends, zero type errors, deterministic; refusals only from the documented table", () => {
    const known = knownRefusals();
    expect(known.size).toBeGreaterThan(0);
    const lib = blockLibrary();
    const configs = new Set<string>();
    const accepted = new Map<string, number>();
    const unknown: string[] = [];
    let valid = 0;
    let typechecked = 0;
    for (const ir of fc.sample(specArb, { numRuns: DRAWS, seed: 20_240_601 })) {
      const { checked } = checkIR(ir);
      if (checked === undefined) continue;
      valid++;
      const fam = familyKey(checked);
      let blocks;
      try {
        blocks = selectBlocks(checked);
      } catch (e: unknown) {
        if (!(e instanceof UnsupportedProtocolError)) throw e;
        const key = constructKey(e.construct);
        if (!known.get(fam)?.has(key)) unknown.push(`${fam} | ${key}`);
        continue;
      }
      accepted.set(fam, (accepted.get(fam) ?? 0) + 1);
      // Type errors depend on which blocks are spliced with which parameters, not on spec text.
      const config = JSON.stringify(blocks.map((b) => [b.file, b.params]));
      if (configs.has(config) || typechecked >= TYPECHECKS) continue;
      configs.add(config);
      typechecked++;
      const input = emitInputFor(checked, PROP_SOURCE, "specs/prop.egida");
      for (const emit of [emitInline, emitModular]) {
        const code = emit(lib, input);
        expect(emit(lib, input)).toBe(code);
        expect(typeCheck(new Map([["src/index.ts", code]])), `${emit.name}: ${JSON.stringify(ir)}`).toEqual([]);
      }
    }
    console.log(`property: ${valid} checker-valid of ${DRAWS} draws; generated ${JSON.stringify(Object.fromEntries(accepted))}; ${typechecked} configurations type-checked`);
    expect([...new Set(unknown)].join("\n"), "refusals missing from the table in docs/protocols.md (\`npx tsx scripts/spec-gap.ts --rows\` prints the rows this test expects)").toBe("");
    // The draws must reach the space: many checker-valid specs, most pessimistic ones generated.
    expect(valid).toBeGreaterThan(500);
    expect(accepted.get("pessimistic") ?? 0).toBeGreaterThan(80);
    expect(typechecked).toBe(TYPECHECKS);
  }, 180_000);

  it("every row of the table is a refusal selection still makes", () => {
    // Selection alone (no emit) on a large sample, plus the draws above: cheap, and it finds the rare constructs.
    const seen = new Set<string>();
    for (const [seed, numRuns] of [[7, 60_000], [20_240_601, DRAWS]] as const) {
      for (const ir of fc.sample(specArb, { numRuns, seed })) {
        const { checked } = checkIR(ir);
        if (checked === undefined) continue;
        try {
          selectBlocks(checked);
        } catch (e: unknown) {
          if (!(e instanceof UnsupportedProtocolError)) throw e;
          seen.add(`${familyKey(checked)} | ${constructKey(e.construct)}`);
        }
      }
    }
    const stale = [...knownRefusals()].flatMap(([fam, cs]) => [...cs].map((c) => `${fam} | ${c}`)).filter((row) => !seen.has(row));
    expect(stale.join("\n"), "rows of the refusal table in docs/protocols.md that no drawn spec needs any more (\`npx tsx scripts/spec-gap.ts --rows\`)").toBe("");
  }, 120_000);
});
