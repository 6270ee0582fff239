/**
 * The checker runs block selection (passes/check-generate.ts): `egida-gen
 * check` fails on every spec `egida-gen compile` would refuse, at the
 * construct's place, with a code and a hint, and renders it like any other
 * error. The property over the whole grammar is codegen-property.test.ts;
 * these are the cases a user meets, one by one.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBlocks, UnsupportedProtocolError } from "../src/blocks/select.js";
import type { Diagnostic } from "../src/diagnostics/types.js";
import { parseSpec } from "../src/frontend.js";
import { checkProtocol } from "../src/passes/check.js";
import { FALLBACK_HINT } from "../src/passes/check-generate.js";
import { classify } from "../src/passes/classify.js";
import { builtinRegistry } from "../src/registry/builtin-registry.js";
import { selectForIR } from "../src/dev/select-ir.js";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "compiler/bin/egida-gen.js");
const STACK = /\n\s+at .+:\d+:\d+/;
const registry = builtinRegistry();

const RECEIVE = "receive: determinant : {source, sesn, dest, desn}";
const FIG4A_LOGS = `${RECEIVE}\nLog determinant synchronously on NFS disk\nsend: Log message synchronously on volatile memory of self`;
const FIG4A_CKPT = "Independent checkpoint asynchronously on NFS disk\nImplementation : incremental";
const FIG4A = `${FIG4A_LOGS}\n${FIG4A_CKPT}`;
const COORD = "Co-ordinated checkpoint synchronously on NFS disk\nImplementation : full";

function ir(text: string) {
  const r = parseSpec(text, "t.egida", registry);
  if (!r.ir) throw new Error(r.diagnostics.map((d) => d.message).join("; "));
  return r.ir;
}
const errors = (text: string): Diagnostic[] => checkProtocol(ir(text), registry, "t.egida").filter((d) => d.severity === "error");

/** The spec's one error: a refusal of selection, with the refusal's code, place and hint. */
function refusal(text: string): Diagnostic {
  const es = errors(text);
  expect(es).toHaveLength(1);
  const d = es[0]!;
  let thrown: unknown;
  try {
    const p = ir(text);
    selectBlocks({ ir: p, classification: classify(p, registry) });
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(UnsupportedProtocolError);
  const e = thrown as UnsupportedProtocolError;
  expect(d.code).toBe(e.code);
  expect(d.loc).toEqual(e.loc);
  expect(d.loc).toBeDefined();
  expect(e.hint).toBeDefined();
  expect(d.hint).toBe(e.hint);
  expect(d.hint).not.toBe(FALLBACK_HINT);
  return d;
}

describe("refusals of block selection are checker errors", () => {
  it("a construct not built yet: E-not-supported-yet at the statement, with what to write instead", () => {
    // A checkpoint counter beside causal logging with independent checkpoints: nothing would read it.
    const d = refusal(`${RECEIVE}\nsend: Piggyback determinants, checkpoint counter\nLog message synchronously on volatile memory of self\nIndependent checkpoint asynchronously on NFS disk\nImplementation : full`);
    expect(d).toMatchObject({ code: "E-not-supported-yet", message: "not supported yet: send: Piggyback checkpoint-counter with causal logging", loc: { line: 2, column: 31 }, path: "/dependencyGenerating/0/piggyback/1" });
    expect(d.hint).toMatch(/piggyback only `send: Piggyback determinants`/);
  });

  it.each([
    ["co-ordinated output commit", `Co-ordinated output commit on write\n${COORD}`, "E-checkpoint-only-output-commit", 1, /remove the output commit statement/],
    ["independent output commit", `Independent output commit on write\n${COORD}`, "E-checkpoint-only-output-commit", 1, /remove the output commit statement/],
    ["orphan detection", `${COORD}\nProtocol to detect orphans : broadcast logical clock`, "E-checkpoint-only-orphan-detection", 3, /remove `Protocol to detect orphans`/],
    ["On rollback", `${COORD}\nOn rollback: Take independent checkpoint on NFS disk`, "E-checkpoint-only-on-rollback", 3, /remove the `On rollback` statement/],
    ["determinant retrieval", `${COORD}\nProtocol to retrieve determinants : centralized`, "E-checkpoint-only-retrieval", 3, /remove `Protocol to retrieve determinants`/],
    ["a message log", `send: Log message synchronously on volatile memory of self\n${COORD}`, "E-checkpoint-only-log", 1, /declare the receive determinant too/],
  ])("checkpoint-only protocol with %s: an error of its own (not a 'not yet'), at its place, with a hint", (_name, text, code, line, hint) => {
    const d = refusal(text);
    expect(d.code).toBe(code);
    expect(d.loc?.line).toBe(line);
    expect(d.hint).toMatch(hint);
  });

  it.each([
    ["a second receive determinant log", "receive: Log determinant synchronously on local disk", "E-second-determinant-log", /remove `determinant` here/],
    ["a receiver message log elsewhere", "receive: Log message asynchronously on local disk", "E-receiver-message-log", /`Log message synchronously on NFS disk`/],
    ["Log in a read: dependency-generating statement", "read: Log determinant synchronously on NFS disk", "E-read-log-statement", /`read: determinant : \{dest, desn\}` followed by/],
  ])("pessimistic: %s is a located error with a hint", (_name, stmt, code, hint) => {
    const d = refusal(`${FIG4A_LOGS}\n${stmt}\n${FIG4A_CKPT}`);
    expect(d.code).toBe(code);
    expect(d.loc?.line).toBe(4);
    expect(d.hint).toMatch(hint);
  });

  it("IR from JSON without spans: the refusal names the IR node (its JSON pointer)", () => {
    const strip = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(strip) : v !== null && typeof v === "object" ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== "loc").map(([k, x]) => [k, strip(x)])) : v;
    const p = strip(ir(`Independent output commit on write\n${COORD}`)) as ReturnType<typeof ir>;
    const es = checkProtocol(p, registry, "t.json").filter((d) => d.severity === "error");
    expect(es).toEqual([expect.objectContaining({ code: "E-checkpoint-only-output-commit", path: "/outputCommit/0/proto", hint: expect.stringMatching(/remove the output commit/) })]);
    expect(es[0]!.loc).toBeUndefined();
  });

  it("the paper's four examples, and every spec in specs/, check with no refusal", () => {
    const fig3a = `${RECEIVE}\nLog determinant, data asynchronously on NFS disk\nCo-ordinated output commit on write\nsend: Piggyback vector clock\nProtocol to detect orphans : broadcast logical clock\nOn rollback: Log determinant, message on NFS disk`;
    const fig3b = `${RECEIVE}\nLog determinant, data asynchronously on NFS disk\nsend: Piggyback determinants\nLog message synchronously on volatile memory of self\nProtocol to retrieve determinants : centralized`;
    const fig4b = FIG4A.replace("Log determinant synchronously on NFS disk", "Log determinant synchronously on volatile memory of processes");
    for (const s of [fig3a, fig3b, FIG4A, fig4b]) expect(checkProtocol(ir(s), registry, "t.egida")).toEqual([]);
  });

  it("checkpoint-only recovery on local disk is generated (a restarted process reads its own local disk)", () => {
    const p = ir(COORD.replace("NFS disk", "local disk"));
    expect(checkProtocol(p, registry, "t.egida")).toEqual([]);
    const store = selectForIR(p).find((b) => b.file === "ckpt-only/store.ts");
    expect(store?.params["ckpt.medium"]).toBe("local-disk");
  });
});

describe("egida-gen check and compile on a refused spec", () => {
  let tmp = "";
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "egida-gate-"));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "" }, encoding: "utf8", timeout: 30_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it("check: exit 1, rendered like any error (place, code, caret, hint), no stack trace; compile refuses it the same way", () => {
    const spec = join(tmp, "ckpt-commit.egida");
    writeFileSync(spec, `protocol cc\nIndependent output commit on write\n${COORD}\n`);
    const r = run(["check", spec]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${spec}:2:1: error: independent output commit in a checkpoint-only protocol`);
    expect(r.stderr).toContain("[E-checkpoint-only-output-commit]\nIndependent output commit on write\n^~~");
    expect(r.stderr).toMatch(/\nhint: remove the output commit statement/);
    expect(r.stderr).toMatch(/1 error\n$/);
    expect(r.stderr).not.toMatch(STACK);

    const c = run(["compile", spec, "--out", join(tmp, "out")]);
    expect(c.code).toBe(1);
    // The same diagnostic, without check's per-file count.
    expect(c.stderr).toBe(r.stderr.replace(/[^\n]*: 1 error\n$/, ""));
  });

  it("check on IR JSON without spans points into the JSON file, at the refused node", () => {
    const json = join(tmp, "ckpt-commit.json");
    const p = ir(`Independent output commit on write\n${COORD}`);
    const text = JSON.stringify(p, (k, v: unknown) => (k === "loc" ? undefined : v), 2);
    writeFileSync(json, text);
    const r = run(["check", json]);
    expect(r.code).toBe(1);
    const line = text.split("\n").findIndex((l) => l.includes('"proto"')) + 1;
    expect(r.stderr).toMatch(new RegExp(`${json.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${line}:\\d+: error: independent output commit in a checkpoint-only protocol`));
    expect(r.stderr).not.toMatch(STACK);
  });
});
