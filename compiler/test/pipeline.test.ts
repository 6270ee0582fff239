/**
 * The compilation pipeline (compiler/src/pipeline/): every pass runs at most
 * once per compile, in the declared order, and diagnostics keep their place
 * in the spec (or, for IR read from JSON, in the JSON file).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { locateJsonPath } from "../src/config/json-locate.js";
import { compile, passes, type CompileOptions } from "../src/pipeline/index.js";
import { builtinRegistry } from "../src/registry/builtin-registry.js";

const SPECS = fileURLToPath(new URL("../../specs/", import.meta.url));
const RECEIVE = "receive: determinant : {source, sesn, dest, desn}";
const FIG4A_LOGS = `${RECEIVE}\nLog determinant synchronously on NFS disk\nsend: Log message synchronously on volatile memory of self`;
const FIG4A_CKPT = "Independent checkpoint asynchronously on NFS disk\nImplementation : incremental";

/** Compile with a pass-run counter. */
async function counted(path: string, options: CompileOptions = {}) {
  const runs = new Map<string, number>();
  const order: string[] = [];
  const c = await compile(path, {
    ...options,
    onPass: (name) => {
      runs.set(name, (runs.get(name) ?? 0) + 1);
      order.push(name);
    },
  });
  return { c, runs, order };
}

function specFile(text: string, name = "t.egida"): string {
  const dir = mkdtempSync(join(tmpdir(), "egida-pipeline-"));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("pipeline", () => {
  it("runs every pass exactly once, in the declared order, for a compile", async () => {
    const { c, runs, order } = await counted(join(SPECS, "fig4a-sby.egida"), { file: "specs/fig4a-sby.egida", generate: { kind: "module", emit: "inline" } });
    expect(c.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    // No finding on fig4a: the report pass has nothing to merge and is skipped; no refusal either.
    const expected = passes.map((p) => p.name).filter((n) => n !== "report" && n !== "check-generate");
    expect(order).toEqual(expected);
    for (const n of expected) expect(runs.get(n)).toBe(1);
    expect(c.classification?.family).toBe("pessimistic");
    expect(c.selection?.map((b) => b.file)).toContain("log/event-log.ts");
    expect(c.output?.source).toMatch(/^\/\/ @generated .*specs\/fig4a-sby\.egida/);
    expect(c.output?.input.blocks.map((b) => b.file)).toEqual(c.selection?.map((b) => b.file));
  });

  it("check (no generate) stops after selection; a caller's text and registry skip read and registry", async () => {
    const { c, order } = await counted("specs/fig4a-sby.egida", { text: `${FIG4A_LOGS}\n${FIG4A_CKPT}\n`, registry: builtinRegistry() });
    expect(order).toEqual(["decode", "parse", "lower", "facts", "classify", "check", "select"]);
    expect(c.source).toContain("Log determinant synchronously");
    expect(c.output).toBeNull();
  });

  it("a refusal is found by the one selection run and reported where the construct is", async () => {
    const text = `${RECEIVE}\nsend: Piggyback determinants, checkpoint counter\nLog message synchronously on volatile memory of self\nIndependent checkpoint asynchronously on NFS disk\nImplementation : full\n`;
    const { c, runs } = await counted(specFile(text), { generate: { kind: "module", emit: "inline" } });
    expect(runs.get("select")).toBe(1);
    expect(runs.get("check-generate")).toBe(1);
    expect(runs.has("generate")).toBe(false);
    const errors = c.diagnostics.filter((d) => d.severity === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.loc?.line).toBe(2);
    expect(errors[0]!.file).toMatch(/t\.egida$/);
    expect(c.refusal?.loc).toEqual(errors[0]!.loc);
  });

  it("checker errors stay located and stop selection", async () => {
    // Determinants on volatile memory of self do not survive the crash they are for.
    const text = `${RECEIVE}\nLog determinant synchronously on volatile memory of self\n${FIG4A_CKPT}\n`;
    const { c, runs } = await counted(specFile(text), { generate: { kind: "module", emit: "inline" } });
    const errors = c.diagnostics.filter((d) => d.severity === "error");
    expect(errors.length).toBeGreaterThan(0);
    for (const d of errors) {
      expect(d.loc).toBeDefined();
      expect(d.loc!.line).toBeGreaterThanOrEqual(1);
    }
    expect(runs.get("check")).toBe(1);
    expect(runs.has("select")).toBe(false);
    expect(runs.has("generate")).toBe(false);
  });

  it("a syntax error stops after parse, with its line and column", async () => {
    const { c, order } = await counted(specFile("receive: determinant : {source, sesn\nLog determinant synchronously on NFS disk\n"));
    expect(order).toEqual(["read", "registry", "decode", "parse"]);
    expect(c.diagnostics.map((d) => [d.code, d.loc?.line, d.loc?.column])).toEqual([["E-syntax", 2, 1]]);
  });

  it("an unknown value stops after lower, at the word", async () => {
    const { c, order } = await counted(specFile(`${RECEIVE}\nLog determinant sometimes on NFS disk\n`));
    expect(order).toEqual(["read", "registry", "decode", "parse", "lower"]);
    expect(c.diagnostics.map((d) => [d.code, d.loc?.line, d.loc?.column])).toEqual([["E-unknown-value", 2, 17]]);
  });

  it("an unreadable file is one diagnostic from the read pass", async () => {
    const { c, order } = await counted(join(tmpdir(), "no-such-dir-egida", "x.egida"));
    expect(order).toEqual(["read"]);
    expect(c.diagnostics.map((d) => d.code)).toEqual(["E-io"]);
  });

  it("findings on IR read from JSON point into the JSON file", async () => {
    const lowered = await compile("t.egida", { text: `${RECEIVE}\nLog determinant synchronously on volatile memory of self\n${FIG4A_CKPT}\n`, registry: builtinRegistry() });
    const json = JSON.stringify(lowered.ir, null, 2);
    const { c, order } = await counted(specFile(json, "t.json"));
    expect(order).not.toContain("parse");
    const errors = c.diagnostics.filter((d) => d.severity === "error");
    expect(errors.length).toBeGreaterThan(0);
    expect(lowered.diagnostics.filter((d) => d.severity === "error").map((d) => d.code)).toEqual(errors.map((d) => d.code));
    for (const d of errors) {
      // The JSON node's place, not the span the IR carries from the spec (lines 1-4 there).
      expect(d.loc).toEqual(locateJsonPath(json, d.path!));
      expect(d.loc!.line).toBeGreaterThan(4);
    }
  });
});
