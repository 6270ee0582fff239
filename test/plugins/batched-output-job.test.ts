/**
 * A third-party block end to end (examples/plugins/batched-output): the
 * plugin's output-commit value `batched` is one block file the plugin ships.
 * The example spec compiles from its directory with `egida-gen compile`,
 * which analyzes the block file, splices it where the independent commit
 * would be (with its `// block` comment), and the package runs under
 * `egida-run` on 4 real processes with SIGKILLs, outputs equal to the
 * failure-free run's. A block file that breaks the block contract, and a
 * family with no place for the block, fail compile in one located line.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
const EXAMPLE = join(ROOT, "examples/plugins/batched-output");
const GEN = join(ROOT, "compiler/bin/egida-gen.js");
const RUN = join(ROOT, "runtime-core/bin/egida-run.js");
const APPS = join(ROOT, "examples/apps");
const BLOCK = "blocks/batched-commit.ts";

let tmp: string;
let pkg: string;

function run(bin: string, args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" }, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Committed outputs, one JSON line per output, in a canonical order. */
function outputs(file: string): string[] {
  return readFileSync(file, "utf8").split("\n").filter((l) => l !== "").sort();
}

/** A copy of the example whose block file (or spec) is edited by `edit`, compiled: its stderr and exit code. */
function compileEdited(name: string, edit: (text: string) => string, spec = "example.egida", specText?: string) {
  const dir = join(tmp, name);
  cpSync(EXAMPLE, dir, { recursive: true });
  const file = join(dir, BLOCK);
  const text = readFileSync(file, "utf8");
  const edited = edit(text);
  writeFileSync(file, edited);
  if (specText !== undefined) writeFileSync(join(dir, spec), specText);
  return { ...run(GEN, ["compile", spec, "--out", join(dir, "out")], dir), file, edited };
}

const escapeRe = (s: string) => s.replace(/[.*+?^$()|[\]\\{}]/g, "\\$&");

/** 1-based line of the first occurrence of `needle` in `text`. */
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split("\n").length;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "egida-batched-job-"));
  pkg = join(tmp, "pkg");
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("a plugin block on real processes", () => {
  it("the example compiles from its directory; the plugin's block is spliced in onWrite in place of commit/independent.ts, with its comment and parameter", () => {
    const r = run(GEN, ["compile", "example.egida", "--out", pkg], EXAMPLE);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const src = readFileSync(join(pkg, "src/index.ts"), "utf8");
    const comment = "// block egida-plugin-batched-output/blocks/batched-commit.ts (batched): Batched output commit: outputs wait up to batch.windowMs and leave in groups after one flush of the event log.";
    expect(src).toContain(comment);
    expect(src).toContain("outBatch: Promise<void> | null = null;");
    expect(src).toContain("s.host.timers.after((5 as number), resolve)"); // param("batch.windowMs"): the BlockDef's default, on the host's clock
    expect(src).not.toContain("// block commit/independent.ts");
    // onWrite: numbered, held by the watermark, committed by the plugin, then released.
    const at = (s: string) => src.indexOf(s);
    expect(at("// block core/output-seq.ts")).toBeLessThan(at(comment));
    expect(at(comment)).toBeLessThan(at("// block core/output-emit.ts"));
    // The code is spliced: the package does not depend on the plugin.
    const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).not.toContain("egida-plugin-batched-output");
  });

  it("jacobi on 4 ranks with SIGKILLs (one rank twice): outputs equal the failure-free run's", () => {
    const app = [join(APPS, "jacobi.mjs"), "32", "150"];
    const ref = run(RUN, ["-n", "4", "--protocol", pkg, "--storage-dir", join(tmp, "ref"), "-q", "--output", join(tmp, "ref.jsonl"), ...app], tmp);
    expect(ref.code, ref.stderr).toBe(0);
    const crash = run(RUN, ["-n", "4", "--protocol", pkg, "--storage-dir", join(tmp, "crash"), "-q", "--output", join(tmp, "crash.jsonl"), "--kill", "1@90msgs", "--kill", "2@170msgs", "--kill", "1@240msgs", "--kill", "3@60msgs", ...app], tmp);
    expect(crash.code, crash.stderr).toBe(0);
    for (const k of ["rank 1 killed at its delivery 90", "rank 2 killed at its delivery 170", "rank 1 killed at its delivery 240", "rank 3 killed at its delivery 60"]) expect(crash.stderr).toContain(k);
    expect(crash.stderr).toMatch(/rank 1: recovered \([1-9]\d* replayed\)/);
    expect(outputs(join(tmp, "ref.jsonl")).length).toBeGreaterThan(0);
    expect(outputs(join(tmp, "crash.jsonl"))).toEqual(outputs(join(tmp, "ref.jsonl")));
  });

  it("writer (an output per step, each awaiting the batched commit) on 4 ranks with SIGKILLs: every output once, as in the failure-free run", () => {
    const app = [join(APPS, "writer.mjs"), "60"];
    const ref = run(RUN, ["-n", "4", "--protocol", pkg, "--storage-dir", join(tmp, "wref"), "-q", "--output", join(tmp, "wref.jsonl"), ...app], tmp);
    expect(ref.code, ref.stderr).toBe(0);
    const crash = run(RUN, ["-n", "4", "--protocol", pkg, "--storage-dir", join(tmp, "wcrash"), "-q", "--output", join(tmp, "wcrash.jsonl"), "--kill", "2@25msgs", "--kill", "0@40msgs", ...app], tmp);
    expect(crash.code, crash.stderr).toBe(0);
    expect(crash.stderr).toContain("rank 2 killed at its delivery 25");
    expect(crash.stderr).toContain("rank 0 killed at its delivery 40");
    expect(outputs(join(tmp, "wref.jsonl"))).toHaveLength(240);
    expect(outputs(join(tmp, "wcrash.jsonl"))).toEqual(outputs(join(tmp, "wref.jsonl")));
  });
});

describe("a plugin block that breaks the contract fails compile in one located line", () => {
  const oneLine = (stderr: string) => {
    expect(stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    return stderr.split("\n").filter((l) => l.includes("error"));
  };

  it("a `return` in a spliced hook", () => {
    const r = compileEdited("ret", (t) => t.replace("  await s.outBatch;\n", "  await s.outBatch;\n  if (s.outBatch === null) return;\n"));
    expect(r.code).not.toBe(0);
    const line = lineOf(r.edited, "if (s.outBatch === null) return;");
    expect(oneLine(r.stderr)).toEqual([
      `${r.file}:${line}:28: error: plugin \`egida-plugin-batched-output\`: hook onWrite is not a filter: its body must not return (bodies are spliced) [E-plugin-block]`,
    ]);
    expect(r.stderr).toMatch(/\nhint: write the block as CONTRIBUTING\.md "Adding a block" says/);
  });

  it("a manifest ordering the block after a block that does not exist", () => {
    const r = compileEdited("order", (t) => t.replace('before: ["core/output-emit.ts"]', 'before: ["core/output-emitter.ts"]'));
    expect(r.code).not.toBe(0);
    const line = lineOf(r.edited, '"core/output-emitter.ts"');
    expect(oneLine(r.stderr)).toEqual([
      expect.stringMatching(new RegExp(`^${escapeRe(r.file)}:${line}:\\d+: error: ${escapeRe("plugin `egida-plugin-batched-output`: manifest.order.onWrite names core/output-emitter.ts, which is not a block [E-plugin-block]")}$`)),
    ]);
  });

  it("an import egida-gen/blocks does not export", () => {
    const r = compileEdited("api", (t) => t.replace("import type { EventLogFields, Kernel, WriteEv }", "import type { EventLogFields, Kernel, WriteEv, DetLogState }"));
    expect(r.code).not.toBe(0);
    expect(oneLine(r.stderr)).toEqual([expect.stringContaining(`${r.file}:${lineOf(r.edited, "DetLogState")}:`)]);
    expect(r.stderr).toContain("DetLogState is not part of egida-gen/blocks [E-plugin-block]");
  });

  it("a family with no place for the block (causal): refused at the statement, with the family it fits", () => {
    const spec = readFileSync(join(ROOT, "specs/family-based-causal.egida"), "utf8").replace("Independent output commit on write", "Batched output commit on write");
    const r = compileEdited("causal", (t) => t, "causal.egida", spec);
    expect(r.code).not.toBe(0);
    const line = lineOf(spec, "Batched output commit on write");
    expect(r.stderr).toContain(`causal.egida:${line}:1: error: not supported yet: plugin output-commit-proto \`batched\` in a causal protocol: its block has no place in this family [E-not-supported-yet]`);
    expect(r.stderr).toContain("hint: a plugin output-commit-proto block replaces commit/independent.ts (pessimistic)");
  });
});
