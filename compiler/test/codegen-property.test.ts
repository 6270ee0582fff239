/**
 * Property (issue 4, "Bad input"): every spec the checker accepts generates,
 * with both back ends, deterministically, code that type-checks strictly
 * against the runtime SPI; zero exceptions. The checker runs block selection
 * (passes/check-generate.ts): every construct selection refuses is a checker
 * error at the construct's place, with the refusal's code and a hint.
 *
 * The refusals whose code is E-not-supported-yet are exactly the rows of the
 * table in docs/protocols.md ("Known gaps"): a new one, or a row no drawn
 * spec needs any more, fails this test. Other refusal codes are errors for
 * combinations with no meaning; they need no row.
 *
 * Specs are drawn from the grammar's whole space (test/spec-space.ts), plus
 * family-shaped ones that reach every family's generated space, and filtered
 * by the checker, not by hand. Bounded: checking and selection run
 * on every draw (cheap); both emitters on one spec per distinct block
 * configuration (the first EMITS_PER_FAMILY per family; every one with
 * EGIDA_PROPERTY_FULL=1); type-checking on TYPECHECKS_PER_FAMILY of those per family.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NOT_SUPPORTED_YET, selectBlocks, UnsupportedProtocolError } from "../src/blocks/select.js";
import { emitInline } from "../src/codegen/inline.js";
import { emitModular } from "../src/codegen/modular.js";
import { blockLibrary, emitInputFor } from "../src/codegen/pipeline.js";
import { typeCheck } from "../src/codegen/typecheck.js";
import type { BlockInstance } from "../src/blocks/select.js";
import type { CheckedProtocol, ProtocolIR } from "../src/ir/types.js";
import { checkIR, constructKey, FAMILY_DRAWS, familySpecArb, PROP_SOURCE, specArb, tableDraws } from "./spec-space.js";

const DRAWS = 20_000;
const TYPECHECKS_PER_FAMILY = 4;
const EMITS_PER_FAMILY = 16;
const FULL = process.env["EGIDA_PROPERTY_FULL"] === "1";
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

/** Checkpoint-only families share one facts step and their rows (blocks/facts/checkpoint-only.ts). */
const familyKey = (c: CheckedProtocol) => (c.classification.family.startsWith("checkpoint-") ? "checkpoint" : c.classification.family);

/**
 * Selection's verdict on a spec the checker accepts before selection, and
 * the checker's full verdict on it: they must agree.
 */
function stages(ir: ProtocolIR) {
  const pre = checkIR(ir, { generator: false }).checked;
  if (pre === undefined) return undefined;
  let refusal: UnsupportedProtocolError | undefined;
  let blocks: BlockInstance[] | undefined;
  try {
    blocks = selectBlocks(pre);
  } catch (e: unknown) {
    if (!(e instanceof UnsupportedProtocolError)) throw e;
    refusal = e;
  }
  return { pre, blocks, refusal, full: checkIR(ir) };
}

describe("property: every checker-valid spec generates code that type-checks", () => {
  it("both back ends, zero type errors, deterministic; each refusal is a located checker error with a hint; not-yet refusals only from the documented table", () => {
    const known = knownRefusals();
    expect(known.size).toBeGreaterThan(0);
    const lib = blockLibrary();
    const configs = new Set<string>();
    const accepted = new Map<string, number>();
    const typecheckedFams = new Map<string, number>();
    const emittedFams = new Map<string, number>();
    const unknown: string[] = [];
    const disagreements: string[] = [];
    let valid = 0;
    let refused = 0;
    let emitted = 0;
    let typechecked = 0;
    const draws = [...fc.sample(specArb, { numRuns: DRAWS, seed: 20_240_601 }), ...fc.sample(familySpecArb, { numRuns: FAMILY_DRAWS, seed: 11 })];
    for (const ir of draws) {
      const st = stages(ir);
      if (st === undefined) continue;
      const fam = familyKey(st.pre);
      const errors = st.full.diagnostics.filter((d) => d.severity === "error");
      if (st.refusal !== undefined) {
        refused++;
        const e = st.refusal;
        // The checker reports the refusal, and only it: located, coded, with the refusal's own hint.
        const d = errors[0];
        if (errors.length !== 1 || d?.code !== e.code || d.loc === undefined || d.loc !== e.loc || e.hint === undefined || d.hint !== e.hint) {
          disagreements.push(`${e.construct}: ${JSON.stringify(errors)} (hint ${String(e.hint)})`);
        }
        if (e.code === NOT_SUPPORTED_YET) {
          const key = constructKey(e.construct);
          if (!known.get(fam)?.has(key)) unknown.push(`${fam} | ${key}`);
        }
        continue;
      }
      // Selection accepts: so must the checker.
      if (st.full.checked === undefined) disagreements.push(`checker refuses what selection accepts: ${JSON.stringify(errors)}`);
      valid++;
      accepted.set(fam, (accepted.get(fam) ?? 0) + 1);
      // What is emitted depends on which blocks are spliced with which parameters, not on spec text.
      const blocks = st.blocks!;
      // Numbers (timer periods, thresholds) are spliced as literals: any value types the same.
      const config = JSON.stringify(blocks.map((b) => [b.file, Object.entries(b.params).map(([k, v]) => [k, typeof v === "number" ? "<number>" : v])]));
      if (configs.has(config)) continue;
      configs.add(config);
      // Emitting costs ~0.1-0.3 s: the first EMITS_PER_FAMILY configurations of each family (all with EGIDA_PROPERTY_FULL=1).
      const famConfigs = (emittedFams.get(fam) ?? 0) + 1;
      emittedFams.set(fam, famConfigs);
      if (famConfigs > EMITS_PER_FAMILY && !FULL) continue;
      const input = emitInputFor(st.pre, PROP_SOURCE, "specs/prop.egida");
      // Type-check the first TYPECHECKS_PER_FAMILY configurations of every family.
      const check = (typecheckedFams.get(fam) ?? 0) < TYPECHECKS_PER_FAMILY;
      for (const emit of [emitInline, emitModular]) {
        const code = emit(lib, input);
        emitted++;
        if (!check) continue;
        expect(emit(lib, input)).toBe(code);
        expect(typeCheck(new Map([["src/index.ts", code]])), `${emit.name}: ${JSON.stringify(ir)}`).toEqual([]);
      }
      if (check) {
        typechecked++;
        typecheckedFams.set(fam, (typecheckedFams.get(fam) ?? 0) + 1);
      }
    }
    console.log(
      `property: ${valid} checker-valid (${refused} more refused by selection) of ${DRAWS} draws; generated ${JSON.stringify(Object.fromEntries(accepted))}; ${configs.size} distinct block configurations, ${emitted / 2} emitted by both back ends, ${typechecked} type-checked ${JSON.stringify(Object.fromEntries(typecheckedFams))}`,
    );
    expect(disagreements.slice(0, 5).join("\n"), "the checker must report every refusal of selection (one located error with its hint) and nothing else").toBe("");
    expect([...new Set(unknown)].join("\n"), "refusals missing from the table in docs/protocols.md (\`npx tsx scripts/spec-gap.ts --rows\` prints the rows this test expects)").toBe("");
    // The draws must reach the space: many specs valid before selection, many generated, in several families.
    expect(valid + refused).toBeGreaterThan(500);
    expect(accepted.get("pessimistic") ?? 0).toBeGreaterThan(80);
    // Every family generates (the family-shaped draws), and its first configuration was type-checked.
    expect([...accepted.keys()].sort()).toEqual(["causal", "checkpoint", "optimistic", "pessimistic"]);
    for (const [fam, n] of emittedFams) expect(typecheckedFams.get(fam), fam).toBe(Math.min(n, TYPECHECKS_PER_FAMILY));
  }, FULL ? 3_600_000 : 300_000);

  it("every row of the table is a refusal selection still makes", () => {
    // Selection alone (no emit) on a large sample, plus the draws above: cheap, and it finds the rare constructs.
    const seen = new Set<string>();
    for (const ir of tableDraws()) {
      const { checked } = checkIR(ir, { generator: false });
      if (checked === undefined) continue;
      try {
        selectBlocks(checked);
      } catch (e: unknown) {
        if (!(e instanceof UnsupportedProtocolError)) throw e;
        if (e.code === NOT_SUPPORTED_YET) seen.add(`${familyKey(checked)} | ${constructKey(e.construct)}`);
      }
    }
    const stale = [...knownRefusals()].flatMap(([fam, cs]) => [...cs].map((c) => `${fam} | ${c}`)).filter((row) => !seen.has(row));
    expect(stale.join("\n"), "rows of the refusal table in docs/protocols.md that no drawn spec needs any more (\`npx tsx scripts/spec-gap.ts --rows\`)").toBe("");
  }, 120_000);
});
