/**
 * A plugin value implemented by a block file (BlockDef `block`,
 * docs/plugins.md "A plugin block"): what the loader and the compile-time
 * analysis refuse, each as one located diagnostic, and what `check` and
 * `explain` say of a block that is fine. Each case edits a copy of
 * examples/plugins/batched-output (its run on real processes:
 * test/plugins/batched-output-job.test.ts).
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "compiler/bin/egida-gen.js");
const EXAMPLE = join(ROOT, "examples/plugins/batched-output");

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "egida-plugin-block-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the example with `edits` applied (file → text transform), and `egida-gen <args>` run in it. */
function inCopy(name: string, edits: Record<string, (t: string) => string>, args: string[]) {
  const dir = join(tmp, name);
  cpSync(EXAMPLE, dir, { recursive: true });
  for (const [f, edit] of Object.entries(edits)) {
    const p = join(dir, f);
    const before = readFileSync(p, "utf8");
    const after = edit(before);
    if (after === before) throw new Error(`edit of ${f} changed nothing`);
    writeFileSync(p, after);
  }
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: "1" }, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout, dir };
}

const compile = (name: string, edits: Record<string, (t: string) => string>) => inCopy(name, edits, ["compile", "example.egida", "--out", "out"]);
const errors = (stderr: string) => stderr.split("\n").filter((l) => l.includes("error"));
const BLOCK = "blocks/batched-commit.ts";
/** 1-based line of the first occurrence of `needle` in `text`. */
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split("\n").length;

describe("a plugin block file", () => {
  it("check accepts the spec (it generates: no W-plugin-not-generated) and explain names the block file", () => {
    const c = inCopy("check", {}, ["check", "example.egida"]);
    expect(c.stderr).toBe("");
    expect(c.code).toBe(0);
    const e = inCopy("explain", {}, ["explain", "example.egida"]);
    expect(e.code).toBe(0);
    expect(e.stdout).toContain("output-commit-proto `batched` → egida-plugin-batched-output/blocks/batched-commit.ts");
  });

  it("a BlockDef with neither binding nor block is refused at the config entry", () => {
    const r = compile("nobinding", { "index.js": (t) => t.replace('    block: "./blocks/batched-commit.ts",\n', "") });
    expect(r.code).not.toBe(0);
    // (the spec's `Batched` is then unknown too: the plugin's value is not registered)
    expect(errors(r.stderr).filter((l) => l.includes("egida.config.json"))).toEqual([expect.stringMatching(/egida\.config\.json:1:\d+: error: plugin `\.\/`: blocks\/0 is missing required property `binding` or `block` \[E-plugin\]$/)]);
  });

  it("a block file that does not exist is refused at the config entry", () => {
    const r = compile("missing", { "index.js": (t) => t.replace("./blocks/batched-commit.ts", "./blocks/nope.ts") });
    expect(r.code).not.toBe(0);
    // (the spec's `Batched` is then unknown too: the plugin's value is not registered)
    expect(errors(r.stderr)[0]).toEqual(expect.stringMatching(/egida\.config\.json:1:\d+: error: plugin `\.\/`: output-commit-proto `batched` names block file \.\/blocks\/nope\.ts, which does not exist \(.*nope\.ts\) \[E-plugin\]$/));
  });

  it("a relative import (a plugin block is one file)", () => {
    const r = compile("relative", { [BLOCK]: (t) => t.replace('import { param } from "egida-gen/blocks";', 'import { param } from "egida-gen/blocks";\nimport { helper } from "./helper.js";') });
    expect(r.code).not.toBe(0);
    expect(errors(r.stderr)).toEqual([`${join(r.dir, BLOCK)}:${lineOf(readFileSync(join(r.dir, BLOCK), "utf8"), "./helper.js")}:1: error: plugin \`egida-plugin-batched-output\`: a plugin block is one file: import "./helper.js" is not spliced [E-plugin-block]`]);
  });

  it("a field a built-in block already declares", () => {
    const r = compile("field", { [BLOCK]: (t) => t.replace("  outBatch: Promise<void> | null;", "  outBatch: Promise<void> | null;\n  outSeq: number;") });
    expect(r.code).not.toBe(0);
    expect(errors(r.stderr)).toEqual([`${join(r.dir, BLOCK)}:${lineOf(readFileSync(join(r.dir, BLOCK), "utf8"), "outSeq: number")}:3: error: plugin \`egida-plugin-batched-output\`: field outSeq is already a field of core/output-seq.ts [E-plugin-block]`]);
  });

  it("a manifest that does not implement the plugin's value", () => {
    const r = compile("implements", { [BLOCK]: (t) => t.replace('{ variable: "output-commit-proto", value: "batched" }', '{ variable: "output-commit-proto", value: "independent" }') });
    expect(r.code).not.toBe(0);
    expect(errors(r.stderr)).toEqual([expect.stringMatching(/batched-commit\.ts:\d+:\d+: error: plugin `egida-plugin-batched-output`: the manifest does not implement output-commit-proto `batched`, the value whose BlockDef names this file \[E-plugin-block\]$/)]);
  });

  it("a parameter the block reads that the BlockDef gives no default", () => {
    const r = compile("param", { "index.js": (t) => t.replace("default: 5, ", "") });
    expect(r.code).not.toBe(0);
    expect(errors(r.stderr)).toEqual([expect.stringMatching(/batched-commit\.ts:\d+:\d+: error: plugin `egida-plugin-batched-output`: the manifest reads parameter "batch\.windowMs", which the plugin's BlockDef gives no default \[E-plugin-block\]$/)]);
  });

  it("a manifest that requires a file that is not a block", () => {
    const r = compile("requires-file", { [BLOCK]: (t) => t.replace('requires: ["log/event-log.ts"]', 'requires: ["log/nope.ts"]') });
    expect(r.code).not.toBe(0);
    expect(errors(r.stderr)).toEqual([
      `${join(r.dir, BLOCK)}:${lineOf(readFileSync(join(r.dir, BLOCK), "utf8"), '"log/nope.ts"')}:14: error: plugin \`egida-plugin-batched-output\`: manifest.requires names log/nope.ts, which is not a block [E-plugin-block]`,
    ]);
  });

  it("a manifest that requires a block the spec's family does not select: refused at the spec's output commit", () => {
    const r = compile("requires-family", { [BLOCK]: (t) => t.replace('requires: ["log/event-log.ts"]', 'requires: ["log/event-log.ts", "causal/det-log.ts"]') });
    expect(r.code).not.toBe(0);
    const line = lineOf(readFileSync(join(r.dir, "example.egida"), "utf8"), "Batched output commit");
    expect(errors(r.stderr)).toContain(`example.egida:${line}:1: error: plugin block egida-plugin-batched-output/blocks/batched-commit.ts requires causal/det-log.ts, which a pessimistic protocol does not select [E-plugin-block]`);
  });

  it("the same spec with a built-in output commit neither needs nor reads the block", () => {
    const r = inCopy("builtin", { "example.egida": (t) => t.replace("Batched output commit", "Independent output commit"), [BLOCK]: (t) => t.replace("export async function onWrite", "export async function onNope") }, ["compile", "example.egida", "--out", "out"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(join(r.dir, "out/src/index.ts"), "utf8")).toContain("// block commit/independent.ts");
  });
});
