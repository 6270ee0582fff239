import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseSpec } from "../src/frontend.js";
import { builtinRegistry } from "../src/registry/builtin-registry.js";
import type { Diagnostic } from "../src/diagnostics/types.js";
import type { ProtocolIR } from "../src/ir/types.js";

const registry = builtinRegistry();
const SPECS = new URL("../../specs/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, SPECS), "utf8");

/** Strip spans for structural comparison. */
const bare = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === "loc" || k === "source" ? undefined : v)));

function ir(text: string, file = "t.egida"): ProtocolIR {
  const r = parseSpec(text, file, registry);
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return r.ir!;
}
function errors(text: string, file = "t.egida"): Diagnostic[] {
  const r = parseSpec(text, file, registry);
  expect(r.ir).toBeNull();
  const es = r.diagnostics.filter((d) => d.severity === "error");
  expect(es.length).toBeGreaterThan(0);
  for (const d of es) expect(d.loc).toBeDefined();
  return es;
}

describe("lower: the paper's examples", () => {
  it("Figure 3a → IR with canonical ids", () => {
    const p = ir(read("fig3a-damani-garg.egida"), "specs/fig3a-damani-garg.egida");
    expect(bare(p)).toEqual({
      irVersion: 1,
      name: "fig3a-damani-garg",
      options: { f: 1, checkpointIntervalMs: 2000, flushIntervalMs: 100 },
      nonDeterministic: [
        {
          event: "receive",
          determinant: ["source", "sesn", "dest", "desn"],
          log: { info: [{ id: "determinant" }, { id: "message" }], how: { id: "asynchronously" }, where: { id: "nfs-disk" } },
        },
      ],
      outputCommit: [{ proto: { id: "coordinated" }, events: ["write"] }],
      dependencyGenerating: [{ event: "send", piggyback: [{ id: "vector-clock" }], log: null }],
      checkpoint: null,
      recovery: {
        retrieveDeterminants: null,
        orphanDetection: { id: "broadcast-logical-clock" },
        onRollback: { kind: "log", info: [{ id: "determinant" }, { id: "message" }], storage: { id: "nfs-disk" } },
      },
    });
    expect(p.source).toEqual({ file: "specs/fig3a-damani-garg.egida" });
  });
  it("Figure 3b, 4a, 4b", () => {
    const b = ir(read("fig3b-hybrid-causal.egida"));
    expect(bare(b.dependencyGenerating)).toEqual([
      { event: "send", piggyback: [{ id: "determinants" }], log: { info: [{ id: "message" }], how: { id: "synchronously" }, where: { id: "volatile-memory-of-self" } } },
    ]);
    expect(b.recovery.retrieveDeterminants?.id).toBe("centralized");
    const a4 = ir(read("fig4a-sby.egida"));
    expect(bare(a4.checkpoint)).toEqual({ proto: { id: "independent" }, how: { id: "asynchronously" }, storage: { id: "nfs-disk" }, impl: { id: "incremental" } });
    const b4 = ir(read("fig4b-f-replicated.egida"));
    expect(b4.nonDeterministic[0]!.log!.where.id).toBe("volatile-memory-of-processes");
  });
  it("keeps spans on values", () => {
    const p = ir("send: Log message synchronously on NFS disk");
    expect(p.dependencyGenerating[0]!.log!.where.loc).toEqual({ line: 1, column: 36, offset: 35, endOffset: 43 });
  });
  it("determinants with a tracking modifier", () => {
    const p = ir(read("family-based-causal.egida"));
    expect(bare(p.dependencyGenerating[0]!.piggyback)).toEqual([{ id: "determinants", tracking: { id: "dependency-matrix" } }]);
    expect(p.recovery.retrieveDeterminants?.id).toBe("distributed");
  });
  it("Take independent checkpoint on rollback", () => {
    const p = ir("On rollback: Take independent checkpoint on local disk");
    expect(bare(p.recovery.onRollback)).toEqual({ kind: "checkpoint", info: [], storage: { id: "local-disk" } });
  });
  it("spellings: co-ordinated/coordinated, data/message, case", () => {
    const p = ir("send: Log DATA synchronously on nfs disk\nCOORDINATED checkpoint synchronously on NFS DISK Implementation : FULL");
    expect(p.dependencyGenerating[0]!.log!.info[0]!.id).toBe("message");
    expect(p.checkpoint!.proto.id).toBe("coordinated");
  });
  it("ssn/rsn are accepted for sesn/desn", () => {
    expect(ir("receive: determinant : {source, ssn, dest, rsn}").nonDeterministic[0]!.determinant).toEqual(["source", "sesn", "dest", "desn"]);
  });
  it("an empty spec is an empty protocol with a warning", () => {
    const r = parseSpec("", "empty.egida", registry);
    expect(r.ir?.name).toBe("empty");
    expect(r.diagnostics.map((d) => d.code)).toEqual(["W-empty"]);
  });
});

describe("lower: options and name (extensions)", () => {
  it("defaults: name from file, f = 1, checkpoint 2000 ms, flush 100 ms", () => {
    const p = ir("send: Piggyback vector clock", "/x/y/My Spec.v2.egida");
    expect(p.name).toBe("my-spec-v2");
    expect(p.options).toEqual({ f: 1, checkpointIntervalMs: 2000, flushIntervalMs: 100 });
  });
  it("header sets every option; units ms, s, min", () => {
    expect(ir("protocol a ( f = 3, checkpoint every 5s, flush every 250ms )").options).toEqual({ f: 3, checkpointIntervalMs: 5000, flushIntervalMs: 250 });
    expect(ir("protocol a (tolerate f = 2, checkpoint every 2min)").options).toEqual({ f: 2, checkpointIntervalMs: 120000, flushIntervalMs: 100 });
    expect(ir("protocol b").name).toBe("b");
  });
  it("bad names with hints", () => {
    const [d] = errors("protocol My_Proto");
    expect(d!.code).toBe("E-name");
    expect(d!.hint).toContain("my-proto");
    expect(errors("protocol a--b")[0]!.code).toBe("E-name");
    expect(errors("protocol " + "a".repeat(65))[0]!.message).toMatch(/limit is 64/);
    expect(errors("protocol x;y")[0]!.code).toBe("E-syntax");
    expect(errors("send: Piggyback vector clock", "123.egida")[0]!.hint).toMatch(/protocol my-protocol/);
  });
  it("option errors", () => {
    expect(errors("protocol (f = 0)")[0]!.message).toMatch(/out of range/);
    expect(errors("protocol (f = 99999999999999999999)")[0]!.code).toBe("E-option");
    expect(errors("protocol (f every 5s)")[0]!.code).toBe("E-option");
    expect(errors("protocol (checkpoint = 5)")[0]!.hint).toMatch(/checkpoint every 5ms/);
    expect(errors("protocol (flush every 0ms)")[0]!.message).toMatch(/out of range/);
    expect(errors("protocol (checkpoint every 2000min)")[0]!.message).toMatch(/out of range/);
    expect(errors("protocol (flsh every 5s)")[0]!.hint).toBe("did you mean `flush`?");
    expect(errors("protocol (f = 1, f = 2)")[0]!.code).toBe("E-duplicate");
  });
});

describe("lower: unknown values and structure errors", () => {
  it("unknown storage lists known values and suggests", () => {
    const [d] = errors("send: Log message synchronously on NFS disc");
    expect(d).toMatchObject({ code: "E-unknown-value", loc: { line: 1, column: 36 }, hint: "did you mean `NFS disk`?" });
    expect(d!.message).toContain("`volatile memory of processes`");
  });
  it("unknown values of every variable", () => {
    expect(errors("Coordinatd output commit on write")[0]!.hint).toBe("did you mean `coordinated`?");
    expect(errors("send: Log mesage synchronously on NFS disk")[0]!.hint).toBe("did you mean `message`?");
    expect(errors("send: Log message synchronosly on NFS disk")[0]!.hint).toBe("did you mean `synchronously`?");
    expect(errors("send: Piggyback vectr clock")[0]!.hint).toBe("did you mean `vector clock`?");
    expect(errors("Independnt checkpoint synchronously on NFS disk Implementation : full")[0]!.hint).toBe("did you mean `independent`?");
    expect(errors("Independent checkpoint synchronously on NFS disk Implementation : incremntal")[0]!.hint).toBe("did you mean `incremental`?");
    expect(errors("Protocol to retrieve determinants : centralised please")[0]!.code).toBe("E-unknown-value");
    expect(errors("Protocol to detect orphans : broadcast logical clocks")[0]!.hint).toBe("did you mean `broadcast logical clock`?");
    expect(errors("Protocol to detect orphans : vector clock")[0]!.hint).toBe("`vector clock` is a piggyback value, not an orphan-detection protocol");
  });
  it("unknown events and determinant fields", () => {
    expect(errors("recieve: determinant : {source}")[0]).toMatchObject({ code: "E-unknown-event", hint: "did you mean `receive`?" });
    expect(errors("receive: determinant : {source, sesm}")[0]).toMatchObject({ code: "E-determinant", hint: "did you mean `sesn`?" });
    expect(errors("receive: determinant : {}")[0]!.code).toBe("E-determinant");
    expect(errors("receive: determinant : {source, source}")[0]!.code).toBe("E-duplicate");
    expect(errors("Independent output commit on write, wrte")[0]!.hint).toBe("did you mean `write`?");
  });
  it("missing how-to-log, or missing event-info", () => {
    const [d] = errors("send: Log message on NFS disk");
    expect(d).toMatchObject({ code: "E-syntax", message: "missing how-to-log before `on`", loc: { column: 19 } });
    expect(errors("send: Log synchronously on NFS disk")[0]!.message).toMatch(/missing event-info/);
    expect(errors("On rollback: Log determinant synchronously on NFS disk")[0]!.message).toMatch(/takes no how-to-log/);
  });
  it("tracking modifier without determinants", () => {
    expect(errors("send: Piggyback vector clock, stability vector")[0]!.code).toBe("E-tracking");
  });
  it("duplicates inside lists", () => {
    expect(errors("send: Log message, data synchronously on NFS disk")[0]!.code).toBe("E-duplicate");
    expect(errors("send: Piggyback vector clock, vector clock")[0]!.code).toBe("E-duplicate");
  });
  it("reports every error, not just the first", () => {
    expect(errors("send: Log mesage synchronosly on NFS disc").map((d) => d.code)).toEqual(["E-unknown-value", "E-unknown-value", "E-unknown-value"]);
  });
});

describe("lower: statement order (E-order) and duplicates (E-duplicate)", () => {
  it("groups out of Figure 1 order name both statements", () => {
    const [d] = errors("send: Piggyback vector clock\nreceive: determinant : {source, sesn, dest, desn}");
    expect(d).toMatchObject({ code: "E-order", loc: { line: 2, column: 1 } });
    expect(d!.message).toMatch(/non-deterministic event statement .* must come before a dependency-generating .* \(at 1:1\)/);
  });
  it("recovery sub-statements are ordered too; header first", () => {
    expect(errors("On rollback: Take independent checkpoint on NFS disk\nProtocol to detect orphans : broadcast logical clock")[0]!.code).toBe("E-order");
    expect(errors("send: Piggyback vector clock\nprotocol x")[0]!.code).toBe("E-order");
    expect(errors("Independent checkpoint synchronously on NFS disk Implementation : full\nIndependent output commit on write")[0]!.code).toBe("E-order");
  });
  it("several statements of a group are fine in any order among themselves", () => {
    ir("send: Piggyback vector clock\nreceive: Log message synchronously on NFS disk");
  });
  it("a second statement for the same event, a second checkpoint, a second header", () => {
    expect(errors("send: Piggyback vector clock\nsend: Log message synchronously on NFS disk")[0]).toMatchObject({ code: "E-duplicate", loc: { line: 2 } });
    expect(errors("receive: determinant : {source}\nreceive: determinant : {dest}")[0]!.code).toBe("E-duplicate");
    expect(errors("Independent output commit on write\nCo-ordinated output commit on write")[0]!.code).toBe("E-duplicate");
    expect(errors("Independent output commit on write, write")[0]!.code).toBe("E-duplicate");
    expect(errors("Independent checkpoint synchronously on NFS disk Implementation : full Independent checkpoint synchronously on NFS disk Implementation : full")[0]!.code).toBe("E-duplicate");
    expect(errors("Protocol to retrieve determinants : centralized Protocol to retrieve determinants : distributed")[0]!.code).toBe("E-duplicate");
    expect(errors("protocol a protocol b")[0]!.code).toBe("E-duplicate");
  });
});
