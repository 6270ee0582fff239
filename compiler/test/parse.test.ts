import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "../src/parse/parse.js";
import { MAX_SPEC_BYTES } from "../src/parse/decode.js";
import type { SpecAst, Statement } from "../src/parse/ast.js";

const SPECS = new URL("../../specs/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, SPECS), "utf8");
const PAPER = ["fig3a-damani-garg.egida", "fig3b-hybrid-causal.egida", "fig4a-sby.egida", "fig4b-f-replicated.egida"];

function ok(text: string): SpecAst {
  const r = parse(text, "t.egida");
  expect(r.diagnostics).toEqual([]);
  expect(r.ast).not.toBeNull();
  return r.ast!;
}
const kinds = (ast: SpecAst) => ast.statements.map((s) => s.kind);
function err(text: string | Uint8Array) {
  const r = parse(text, "t.egida");
  expect(r.ast).toBeNull();
  expect(r.diagnostics).toHaveLength(1);
  const d = r.diagnostics[0]!;
  expect(d.loc).toBeDefined();
  return d;
}

describe("parse: the paper's examples verbatim", () => {
  it("Figure 3a (Damani-Garg)", () => {
    const ast = ok(read(PAPER[0]!));
    expect(kinds(ast)).toEqual(["non-det", "output-commit", "dep-gen", "orphans", "rollback"]);
    const nd = ast.statements[0] as Extract<Statement, { kind: "non-det" }>;
    expect(nd.event.text).toBe("receive");
    expect(nd.fields.map((f) => f.text)).toEqual(["source", "sesn", "dest", "desn"]);
    expect(nd.log!.info.map((i) => i.text)).toEqual(["determinant", "data"]);
    expect(nd.log!.how!.text).toBe("asynchronously");
    expect(nd.log!.where.text).toBe("NFS disk");
    const oc = ast.statements[1] as Extract<Statement, { kind: "output-commit" }>;
    expect(oc.proto.text).toBe("Co-ordinated");
    expect(oc.events.map((e) => e.text)).toEqual(["write"]);
    const rb = ast.statements[4] as Extract<Statement, { kind: "rollback" }>;
    expect(rb.action.kind).toBe("log");
    expect(rb.action.info.map((i) => i.text)).toEqual(["determinant", "message"]);
  });
  it("Figure 3b (hybrid causal)", () => {
    const ast = ok(read(PAPER[1]!));
    expect(kinds(ast)).toEqual(["non-det", "dep-gen", "retrieve"]);
    const dg = ast.statements[1] as Extract<Statement, { kind: "dep-gen" }>;
    expect(dg.piggyback!.values.map((v) => v.text)).toEqual(["determinants"]);
    expect(dg.log!.where.text).toBe("volatile memory of self");
  });
  it.each([PAPER[2]!, PAPER[3]!])("Figure 4 %s", (name) => {
    const ast = ok(read(name));
    expect(kinds(ast)).toEqual(["non-det", "dep-gen", "checkpoint"]);
    const ck = ast.statements[2] as Extract<Statement, { kind: "checkpoint" }>;
    expect([ck.proto.text, ck.how.text, ck.storage.text, ck.impl.text]).toEqual(["Independent", "asynchronously", "NFS disk", "incremental"]);
  });
  it("every spec in specs/ parses", () => {
    for (const f of readdirSync(SPECS).filter((f) => f.endsWith(".egida"))) ok(read(f));
  });
});

describe("parse: layout", () => {
  it.each(PAPER)("%s on one line", (name) => {
    const text = read(name).replace(/\n/g, " ");
    expect(kinds(ok(text))).toEqual(kinds(ok(read(name))));
  });
  it("comments anywhere, // and /* */, including inside values", () => {
    const ast = ok("// header\nsend: /* a */ Log message /* b */ synchronously on volatile /* c */ memory of self // end");
    const dg = ast.statements[0] as Extract<Statement, { kind: "dep-gen" }>;
    expect(dg.log!.where.text).toBe("volatile memory of self");
  });
  it("keywords are case-insensitive", () => {
    const ast = ok("RECEIVE: DETERMINANT : {SOURCE, sesn, dest, desn} LOG determinant SYNCHRONOUSLY ON nfs DISK co-ordinated OUTPUT COMMIT ON write PROTOCOL TO DETECT ORPHANS : broadcast logical clock ON ROLLBACK : TAKE INDEPENDENT CHECKPOINT ON NFS disk");
    expect(kinds(ast)).toEqual(["non-det", "output-commit", "orphans", "rollback"]);
  });
  it("values keep their own locations", () => {
    const ast = ok("send: Log message synchronously on\n  NFS disk");
    const dg = ast.statements[0] as Extract<Statement, { kind: "dep-gen" }>;
    expect(dg.log!.where.loc).toEqual({ line: 2, column: 3, offset: 37, endOffset: 45 });
    expect(dg.log!.how!.loc).toMatchObject({ line: 1, column: 19 });
  });
  it("statements out of order are kept in source order (the lower pass reports order)", () => {
    const ast = ok("send: Piggyback vector clock\nreceive: determinant : {source, sesn, dest, desn}\nCo-ordinated output commit on write");
    expect(kinds(ast)).toEqual(["dep-gen", "non-det", "output-commit"]);
  });
  it("unknown values parse (the registry judges them)", () => {
    const ast = ok("send: Log message synchronously on replicated ssd");
    expect((ast.statements[0] as Extract<Statement, { kind: "dep-gen" }>).log!.where.text).toBe("replicated ssd");
  });
  it("pb-value with tracking modifier and several values", () => {
    const ast = ok("send: Piggyback determinants, dependency matrix, checkpoint counter");
    const dg = ast.statements[0] as Extract<Statement, { kind: "dep-gen" }>;
    expect(dg.piggyback!.values.map((v) => v.text)).toEqual(["determinants", "dependency matrix", "checkpoint counter"]);
  });
  it("a value stops before the next statement's ckpt-proto / output-commit-proto", () => {
    const ast = ok("send: Piggyback vector clock Independent checkpoint asynchronously on NFS disk Implementation : full Protocol to retrieve determinants : centralized");
    expect(kinds(ast)).toEqual(["dep-gen", "checkpoint", "retrieve"]);
  });
  it("empty file and comment-only file parse to no statements", () => {
    expect(ok("").statements).toEqual([]);
    expect(ok("  /* nothing */ \n// here\n").statements).toEqual([]);
  });
  it("a leading BOM is whitespace", () => {
    expect(kinds(ok("\uFEFFsend: Piggyback vector clock"))).toEqual(["dep-gen"]);
  });
});

describe("parse: the protocol header extension", () => {
  it("name and options", () => {
    const ast = ok("protocol sby ( f = 2, checkpoint every 5s, flush every 100ms )\nsend: Piggyback vector clock");
    const h = ast.statements[0] as Extract<Statement, { kind: "header" }>;
    expect(h.name!.text).toBe("sby");
    expect(h.options.map((o) => [o.key.text, o.value.kind, o.value.value])).toEqual([
      ["f", "number", 2],
      ["checkpoint", "duration", 5],
      ["flush", "duration", 100],
    ]);
  });
  it("name only, options only, `tolerate f`", () => {
    expect(kinds(ok("protocol x"))).toEqual(["header"]);
    const h = ok("protocol (tolerate f = 3)").statements[0] as Extract<Statement, { kind: "header" }>;
    expect(h.name).toBeNull();
    expect(h.options[0]!.key.text).toBe("tolerate f");
  });
  it("`Protocol to ...` is never a header", () => {
    expect(kinds(ok("Protocol to retrieve determinants : centralized"))).toEqual(["retrieve"]);
  });
  it("a header with no name does not swallow the next statement's event", () => {
    expect(kinds(ok("protocol\nsend: Piggyback vector clock"))).toEqual(["header", "dep-gen"]);
  });
});

describe("parse: errors are located diagnostics", () => {
  it("expected X, found Y with a hint", () => {
    const d = err("send: Piggyback vector clock ;");
    expect(d.code).toBe("E-syntax");
    expect(d.message).toMatch(/^expected .*found `;`$/);
    expect(d.message).not.toMatch(/whitespace|`\/\*`/);
    expect(d.loc).toEqual({ line: 1, column: 30, offset: 29, endOffset: 30 });
    expect(d.hint).toBeTruthy();
  });
  it("a missing colon after the event", () => {
    const d = err("receive determinant : {source}");
    expect(d.loc!.column).toBeGreaterThan(1);
  });
  it("truncated statement: found end of input", () => {
    const d = err("receive: determinant : {source, sesn");
    expect(d.message).toMatch(/found end of input/);
  });
  it("unterminated comment names its start", () => {
    const d = err("send: Piggyback vector clock\n  /* never closed\n");
    expect(d.message).toBe("unterminated comment starting at 2:3");
    expect(d.loc).toMatchObject({ line: 2, column: 3 });
  });
  it("10,000 nested comment openers do not blow the stack", () => {
    const d = err("/*".repeat(10_000) + "*/".repeat(10_000));
    expect(d.code).toBe("E-syntax");
    const d2 = err("/* ".repeat(10_000));
    expect(d2.message).toBe("unterminated comment starting at 1:1");
  });
  it("invalid UTF-8 reports the byte offset", () => {
    const bytes = new Uint8Array([...new TextEncoder().encode("send:\n Piggyback "), 0xc3, 0x28]);
    const d = err(bytes);
    expect(d.code).toBe("E-encoding");
    expect(d.message).toContain("byte offset 17");
    expect(d.loc).toMatchObject({ line: 2, column: 12 });
  });
  it("valid multi-byte UTF-8 decodes", () => {
    const d = err(new TextEncoder().encode("send: Log message synchronously on disk é"));
    expect(d.message).toContain("`é`");
  });
  it("NUL and control bytes are syntax errors, shown escaped", () => {
    const d = err("send\u0000: x");
    expect(d.message).toContain("U+0000");
  });
  it("specs over the size limit are rejected before parsing", () => {
    const big = "/*" + "x".repeat(MAX_SPEC_BYTES) + "*/";
    const d = err(big);
    expect(d.code).toBe("E-too-large");
    const d2 = err(new Uint8Array(10 * 1024 * 1024));
    expect(d2.code).toBe("E-too-large");
  });
});
