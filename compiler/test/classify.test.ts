import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSpec } from "../src/frontend.js";
import type { Classification, Family, ProtocolIR } from "../src/ir/types.js";
import { classify } from "../src/passes/classify.js";
import { builtinRegistry } from "../src/registry/builtin-registry.js";

const registry = builtinRegistry();
const SPECS = join(import.meta.dirname, "../../specs");

function compile(text: string | Uint8Array, file = "t.egida"): ProtocolIR {
  const r = parseSpec(text, file, registry);
  if (!r.ir) throw new Error(`${file} does not compile: ${r.diagnostics.map((d) => d.message).join("; ")}`);
  return r.ir;
}
const classifyText = (text: string): Classification => classify(compile(text), registry);
const spec = (file: string): Classification => classify(compile(readFileSync(join(SPECS, file)), file), registry);

/** What each shipped spec must classify as; specs added later only need a valid family. */
const EXPECTED: Readonly<Record<string, { family: Family; variant?: string }>> = {
  "fig3a-damani-garg.egida": { family: "optimistic", variant: "receiver-based" },
  "fig3b-hybrid-causal.egida": { family: "causal", variant: "hybrid" },
  "fig4a-sby.egida": { family: "pessimistic", variant: "sender-based" },
  "fig4b-f-replicated.egida": { family: "pessimistic", variant: "replicated" },
  "family-based-causal.egida": { family: "causal", variant: "pure" },
  // A stable log of read values alone does not make the hybrid: receive determinants still only travel piggybacked.
  "fbl-async-reads.egida": { family: "causal", variant: "pure" },
  "fig3b-coordinated-commit.egida": { family: "causal", variant: "hybrid" },
  "receiver-based-pessimistic.egida": { family: "pessimistic", variant: "receiver-based" },
  "coordinated-checkpointing.egida": { family: "checkpoint-coordinated" },
  "communication-induced-checkpointing.egida": { family: "checkpoint-communication-induced" },
  "independent-checkpointing.egida": { family: "checkpoint-independent" },
};
const FAMILIES: readonly Family[] = ["pessimistic", "causal", "optimistic", "checkpoint-coordinated", "checkpoint-communication-induced", "checkpoint-independent", "none"];

describe("classification of the paper's examples", () => {
  it("Figure 3a (Damani and Garg) is optimistic", () => expect(spec("fig3a-damani-garg.egida").family).toBe("optimistic"));
  it("Figure 3b is causal (hybrid)", () => expect(spec("fig3b-hybrid-causal.egida")).toMatchObject({ family: "causal", variant: "hybrid" }));
  it("Figure 4a (Strom, Bacon, Yemini) is pessimistic sender-based", () =>
    expect(spec("fig4a-sby.egida")).toMatchObject({ family: "pessimistic", variant: "sender-based" }));
  it("Figure 4b is pessimistic, f-replicated", () => expect(spec("fig4b-f-replicated.egida")).toMatchObject({ family: "pessimistic", variant: "replicated" }));
});

describe("classification of every spec in specs/", () => {
  const files = readdirSync(SPECS).filter((f) => f.endsWith(".egida"));
  for (const f of files) {
    it(f, () => {
      const c = spec(f);
      expect(FAMILIES).toContain(c.family);
      const want = EXPECTED[f];
      if (want) expect(c).toMatchObject(want);
      if (c.family !== "none") expect(c.guarantees.length).toBeGreaterThan(0);
      for (const g of c.guarantees) expect(g).toMatch(/^[A-Z].*\.$/);
    });
  }
});

describe("guarantees follow section 5 of egida-language.md", () => {
  it("pessimistic: exact recovery, no other rollback, no coordination for output", () => {
    const g = spec("fig4a-sby.egida").guarantees;
    expect(g).toContain("A failed process returns to exactly its pre-failure state.");
    expect(g).toContain("No other process ever rolls back.");
    expect(g.join(" ")).toMatch(/Output commit needs no coordination/);
  });
  it("pessimistic replicated and causal guarantees name f", () => {
    expect(spec("fig4b-f-replicated.egida").guarantees[0]).toMatch(/up to f = 1 concurrent failures/);
    const causal = spec("family-based-causal.egida").guarantees.join(" ");
    expect(causal).toMatch(/up to f = 2 concurrent failures/);
    expect(causal).toMatch(/No synchronous write to stable storage/);
  });
  it("optimistic: states may be lost, orphans rolled back, output never taken back", () => {
    const g = spec("fig3a-damani-garg.egida").guarantees.join(" ");
    expect(g).toMatch(/may be lost/);
    expect(g).toMatch(/orphan/);
    expect(g).toMatch(/never taken back/);
  });
  it("optimistic without co-ordinated output commit does not promise outputs", () => {
    const text = readFileSync(join(SPECS, "fig3a-damani-garg.egida"), "utf8").replace("Co-ordinated output commit on write", "");
    const c = classifyText(text);
    expect(c.family).toBe("optimistic");
    expect(c.guarantees.join(" ")).not.toMatch(/never taken back/);
  });
  it("optimistic without orphan detection does not promise to find orphans", () => {
    const c = classifyText("receive: determinant : {source, sesn, dest, desn}\nLog determinant, message asynchronously on NFS disk");
    expect(c.family).toBe("optimistic");
    expect(c.guarantees.join(" ")).not.toMatch(/orphan/);
  });
  it("checkpoint-only protocols return to a consistent global state", () => {
    for (const f of ["coordinated-checkpointing.egida", "communication-induced-checkpointing.egida", "independent-checkpointing.egida"]) {
      expect(spec(f).guarantees[0]).toMatch(/consistent global state/);
    }
  });
  it("a protocol with nothing is `none`, with no guarantee", () => {
    expect(classifyText("Independent output commit on write")).toEqual({ family: "none", guarantees: [] });
  });
});

describe("family decisions", () => {
  const R = "receive: determinant : {source, sesn, dest, desn}";
  it("synchronous logging on stable storage is pessimistic even with piggybacked determinants", () => {
    expect(classifyText(`${R}\nLog determinant synchronously on NFS disk\nsend: Piggyback determinants\nLog message synchronously on volatile memory of self`).family).toBe("pessimistic");
  });
  it("synchronous logging to volatile memory is not pessimistic", () => {
    expect(classifyText(`${R}\nLog determinant, message synchronously on volatile memory of self`).family).toBe("optimistic");
  });
  it("one asynchronous determinant log makes the protocol optimistic", () => {
    const t = `read: determinant : {source, sesn, dest, desn}\nLog determinant asynchronously on NFS disk\n${R}\nLog determinant, message synchronously on NFS disk`;
    expect(classifyText(t).family).toBe("optimistic");
  });
  it("receiver-based pessimistic logging", () => {
    expect(classifyText(`${R}\nLog determinant, message synchronously on local disk`)).toMatchObject({ family: "pessimistic", variant: "receiver-based" });
  });
  it("causal with f ≥ 2 carries f in its guarantees", () => {
    const c = classifyText(`protocol c (f = 3)\n${R}\nsend: Piggyback determinants, stability matrix\nLog message synchronously on volatile memory of self`);
    expect(c).toMatchObject({ family: "causal", variant: "pure" });
    expect(c.guarantees[0]).toMatch(/f = 3/);
  });
});
