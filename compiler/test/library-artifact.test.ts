/**
 * The precompiled block library (compiler/dist/block-library.json, written by
 * the build: compiler/scripts/build-library.mjs): it must be exactly what an
 * analysis of the block files gives now, a compile must use it, and a block
 * file edited since the build must never be served from it. And a compile
 * without --build loads neither ts-morph nor TypeScript.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { buildArtifact } from "../src/codegen/library-artifact.js";
import { LIBRARY_ARTIFACT, loadLibrary, type LibraryArtifact } from "../src/codegen/library.js";
import { BLOCKS_DIR } from "../src/codegen/pipeline.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("the block library artifact", () => {
  it("is what the block files analyze to now (rebuild with `npm run build` after editing blocks)", () => {
    expect(existsSync(LIBRARY_ARTIFACT), `${LIBRARY_ARTIFACT} is missing: run npm run build`).toBe(true);
    const onDisk = JSON.parse(readFileSync(LIBRARY_ARTIFACT, "utf8")) as LibraryArtifact;
    const fresh = buildArtifact(BLOCKS_DIR);
    expect(onDisk.hash, "the artifact was built from other block files: run npm run build").toBe(fresh.hash);
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(fresh)));
  });

  it("is what the built-in library loads from", () => {
    expect(loadLibrary(BLOCKS_DIR).origin).toBe("artifact");
  });

  it("is not used for block files that differ from the ones it was made from", () => {
    const dir = mkdtempSync(join(tmpdir(), "egida-blocks-"));
    dirs.push(dir);
    cpSync(BLOCKS_DIR, dir, { recursive: true });
    // The same files elsewhere: still the artifact (it is keyed by content, not place).
    expect(loadLibrary(dir).origin).toBe("artifact");
    const ssn = join(dir, "core/ssn.ts");
    writeFileSync(ssn, readFileSync(ssn, "utf8") + "\n// edited\n");
    const edited = loadLibrary(dir);
    expect(edited.origin).toBe("analysis");
    expect(edited.files.get("core/ssn.ts")?.text).toMatch(/\/\/ edited\n$/);
  });
});

describe("a compile without --build", () => {
  it("loads neither ts-morph nor TypeScript", () => {
    const out = mkdtempSync(join(tmpdir(), "egida-lazy-"));
    dirs.push(out);
    // At exit, list the CommonJS modules loaded (ts-morph and typescript are CommonJS).
    const probe = join(out, "probe.cjs");
    writeFileSync(probe, `process.on("exit", () => { const m = Object.keys(require("node:module")._cache).filter((k) => /node_modules[\\\\/](ts-morph|typescript|@ts-morph)[\\\\/]/.test(k)); require("node:fs").writeFileSync(${JSON.stringify(join(out, "loaded.json"))}, JSON.stringify(m)); });\n`);
    const r = spawnSync(process.execPath, ["--require", probe, join(ROOT, "compiler/bin/egida-gen.js"), "compile", "specs/fig4a-sby.egida", "--out", join(out, "pkg")], { cwd: ROOT, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(existsSync(join(out, "pkg/src/index.ts"))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, "loaded.json"), "utf8"))).toEqual([]);
  });
});
