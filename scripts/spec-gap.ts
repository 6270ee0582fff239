/**
 * The spec-coverage gap: draw protocols from the grammar's space
 * (compiler/test/spec-space.ts), keep those the checker accepts before block
 * selection, and tabulate, per family, how many selection implements and
 * which constructs it refuses (UnsupportedProtocolError; the checker reports
 * each as an error: E-not-supported-yet, or the code of a meaningless
 * combination, shown as `[code]`).
 *
 *   npx tsx scripts/spec-gap.ts [--runs 20000] [--seed 1] [--markdown]
 *   npx tsx scripts/spec-gap.ts --rows   # the refusal rows compiler/test/codegen-property.test.ts
 *                                        # expects in docs/protocols.md (same draws as the test)
 */
import fc from "fast-check";
import { parseArgs } from "node:util";
import { NOT_SUPPORTED_YET, selectBlocks, UnsupportedProtocolError } from "../compiler/src/blocks/select.js";
import { checkIR, constructKey, specArb, tableDraws } from "../compiler/test/spec-space.js";

const { values } = parseArgs({ options: { runs: { type: "string", default: "20000" }, seed: { type: "string", default: "1" }, markdown: { type: "boolean", default: false }, rows: { type: "boolean", default: false } } });

if (values.rows) {
  // The draws of codegen-property.test.ts ("every row of the table ...").
  const rows = new Set<string>();
  {
    for (const ir of tableDraws()) {
      const { checked } = checkIR(ir, { generator: false });
      if (checked === undefined) continue;
      const fam = checked.classification.family.startsWith("checkpoint-") ? "checkpoint" : checked.classification.family;
      try {
        selectBlocks(checked);
      } catch (e) {
        if (!(e instanceof UnsupportedProtocolError)) throw e;
        if (e.code !== NOT_SUPPORTED_YET) continue; // an error with its own code, not a table row
        rows.add(`| ${fam} | ${constructKey(e.construct)} | |`);
      }
    }
  }
  for (const r of [...rows].sort()) console.log(r);
  process.exit(0);
}
const runs = Number(values.runs);
const seed = Number(values.seed);

interface Row {
  valid: number;
  accepted: number;
  refused: Map<string, number>;
}
const rows = new Map<string, Row>();
let drawn = 0;
let valid = 0;
const seen = new Set<string>();
for (const ir of fc.sample(specArb, { numRuns: runs, seed })) {
  drawn++;
  const { checked } = checkIR(ir, { generator: false });
  if (checked === undefined) continue;
  // Count distinct protocols, not draws: the same spec drawn twice says nothing new.
  const key = JSON.stringify({ ...ir, options: { f: ir.options.f } }, (k, v: unknown) => (k === "loc" ? undefined : v));
  if (seen.has(key)) continue;
  seen.add(key);
  valid++;
  const fam = checked.classification.family + (checked.classification.variant ? ` (${checked.classification.variant})` : "");
  const row = rows.get(fam) ?? { valid: 0, accepted: 0, refused: new Map() };
  rows.set(fam, row);
  row.valid++;
  try {
    selectBlocks(checked);
    row.accepted++;
  } catch (e) {
    if (!(e instanceof UnsupportedProtocolError)) throw e;
    const c = e.code === NOT_SUPPORTED_YET ? constructKey(e.construct) : `[${e.code}]`;
    row.refused.set(c, (row.refused.get(c) ?? 0) + 1);
  }
}

const pct = (a: number, b: number) => (b === 0 ? "-" : `${((100 * a) / b).toFixed(1)}%`);
console.log(`${drawn} draws (seed ${seed}), ${valid} distinct checker-valid protocols\n`);
if (values.markdown) {
  console.log("| family | checker-valid | generated | refused | refused constructs (count) |");
  console.log("|---|---:|---:|---:|---|");
}
let totalAcc = 0;
for (const [fam, row] of [...rows].sort((a, b) => b[1].valid - a[1].valid)) {
  totalAcc += row.accepted;
  const refused = [...row.refused].sort((a, b) => b[1] - a[1]);
  if (values.markdown) {
    console.log(`| ${fam} | ${row.valid} | ${row.accepted} (${pct(row.accepted, row.valid)}) | ${row.valid - row.accepted} | ${refused.map(([c, n]) => `${c} (${n})`).join("; ")} |`);
  } else {
    console.log(`${fam}: ${row.valid} valid, ${row.accepted} generated (${pct(row.accepted, row.valid)})`);
    for (const [c, n] of refused) console.log(`    ${String(n).padStart(6)}  ${c}`);
  }
}
console.log(`\ntotal: ${valid} valid, ${totalAcc} generated (${pct(totalAcc, valid)})`);
