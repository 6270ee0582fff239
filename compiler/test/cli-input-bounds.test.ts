/**
 * Spec input is read with bounded time and memory (parse/read-spec.ts): a
 * device or a huge file is refused once past the limit, a FIFO without a
 * writer at once, and a pipe with a spec in it is read. Before,
 * `egida-gen check /dev/zero` read until memory ran out and a FIFO hung.
 * Spawns the real built CLI; the spawn timeout only detects a hang.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_SPEC_BYTES } from "../src/parse/decode.js";
import { compileSpecFile } from "../src/plugin/compile.js";
import { loadSpecFile } from "../src/frontend.js";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "compiler/bin/egida-gen.js");
const STACK = /\n\s+at .+:\d+:\d+/;
const HANG_MS = 20_000;

let tmp = "";
beforeAll(() => {
  if (!existsSync(join(ROOT, "compiler/dist/cli/main.js"))) throw new Error("compiler/dist is missing: run `npm run build` at the root first");
  tmp = mkdtempSync(join(tmpdir(), "egida-input-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[]): { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  // No colour (vitest sets FORCE_COLOR itself).
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !["FORCE_COLOR", "NO_COLOR", "EGIDA_DEBUG"].includes(k)));
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: HANG_MS, env });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A FIFO made with mkfifo(1); null when the tool is missing (Node has no mkfifo of its own). */
function makeFifo(name: string): string | null {
  const p = join(tmp, name);
  const r = spawnSync("mkfifo", [p]);
  return r.error || r.status !== 0 ? null : p;
}

// Skip reasons: FIFO tests need mkfifo(1) (Node cannot make one); /dev/zero exists only on Unix-likes.
const HAS_MKFIFO = spawnSync("mkfifo", ["--version"]).error === undefined;
const HAS_DEV_ZERO = existsSync("/dev/zero");

describe("bounded spec input", () => {
  it.skipIf(!HAS_DEV_ZERO)("check /dev/zero ends at once with the size error, one line, exit 1", () => {
    const r = run(["check", "/dev/zero"]);
    expect(r.signal).toBeNull(); // not killed by the hang timeout
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `/dev/zero: error: spec is more than ${MAX_SPEC_BYTES} bytes; the limit is ${MAX_SPEC_BYTES} bytes (1 MiB) (hint: an Egida spec is a handful of statements; is this the right file?)\n`,
    );
  });

  it("a spec piped in through /dev/stdin is read and checked", () => {
    // A shell pipe, as a user writes it (Node's own stdio pipes are sockets, which cannot be opened by path).
    const spec = join(ROOT, "specs/family-based-causal.egida");
    const piped = (cmd: string) => spawnSync("sh", ["-c", `${cmd} | "${process.execPath}" "${BIN}" check /dev/stdin`], { cwd: ROOT, encoding: "utf8", timeout: HANG_MS });
    const ok = piped(`cat "${spec}"`);
    expect([ok.status, ok.stdout, ok.stderr]).toEqual([0, "/dev/stdin: ok, causal (pure)\n", ""]);
    const bad = piped(`(cat "${spec}"; echo nonsense here)`);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^\/dev\/stdin:\d+:\d+: error/);
    expect(bad.stderr).not.toMatch(STACK);
  });

  it.skipIf(!HAS_MKFIFO)("a FIFO with a writer is read", () => {
    const fifo = makeFifo("written.egida")!;
    const spec = join(ROOT, "specs/family-based-causal.egida");
    // The writer waits in open(2) until egida-gen opens the FIFO for reading, as `cat spec > fifo &` does.
    const writer = spawn("sh", ["-c", `cat "${spec}" > "${fifo}"`], { stdio: "ignore" });
    try {
      const r = run(["check", fifo]);
      expect(r.stderr).not.toMatch(STACK);
      expect([r.code, r.stderr]).toEqual([0, ""]);
    } finally {
      writer.kill();
    }
  });

  it.skipIf(!HAS_MKFIFO)("a FIFO without a writer is refused at once, by check, explain and compile", () => {
    const fifo = makeFifo("spec.egida")!;
    expect(fifo).not.toBeNull();
    for (const args of [["check", fifo], ["explain", fifo], ["compile", fifo, "--out", join(tmp, "out")]]) {
      const r = run(args);
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot read ${fifo}: a FIFO with no writer (nothing was written to it)`);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toMatch(STACK);
    }
    expect(existsSync(join(tmp, "out"))).toBe(false);
  });

  it("a sparse 1 GiB file is refused from its size, by check, explain and compile", () => {
    const big = join(tmp, "big.egida");
    writeFileSync(big, "");
    truncateSync(big, 1024 * 1024 * 1024);
    for (const args of [["check", big], ["explain", big], ["compile", big, "--out", join(tmp, "out-big")]]) {
      const r = run(args);
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `${big}: error: spec is 1073741824 bytes; the limit is ${MAX_SPEC_BYTES} bytes (1 MiB) (hint: an Egida spec is a handful of statements; is this the right file?)\n`,
      );
    }
  });

  it("the limit is exact: limit + 1 bytes is too large, limit bytes is read (and parsed)", () => {
    const over = join(tmp, "over.egida");
    writeFileSync(over, Buffer.alloc(MAX_SPEC_BYTES + 1, 0x20));
    expect(run(["check", over]).stderr).toMatch(/spec is 1048577 bytes; the limit is 1048576 bytes/);
    const at = join(tmp, "at.egida");
    writeFileSync(at, Buffer.alloc(MAX_SPEC_BYTES, 0x20));
    const r = run(["check", at]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/limit/); // read whole; an all-blank spec fails in the parser instead
    expect(r.stderr).not.toMatch(STACK);
  });

  it.skipIf(!HAS_MKFIFO)("the library entry points and the bundler plugin refuse a FIFO with E-io", async () => {
    const fifo = makeFifo("lib.egida")!;
    const loaded = await loadSpecFile(fifo);
    expect(loaded.diagnostics).toEqual([expect.objectContaining({ code: "E-io", message: `cannot read ${fifo}: a FIFO with no writer (nothing was written to it)` })]);
    const compiled = await compileSpecFile(fifo, { specFile: "lib.egida" });
    expect(compiled.code).toBeNull();
    expect(compiled.diagnostics).toEqual([expect.objectContaining({ code: "E-io", message: "cannot read lib.egida: a FIFO with no writer (nothing was written to it)" })]);
  });
});
