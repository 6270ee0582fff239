/**
 * Golden: the checked-in packages under generated/ are exactly what the
 * current specs, block library, emitters and templates produce. On failure:
 * `npm run regen` and commit the diff.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { emitModular } from "../src/codegen/modular.js";
import { staleFiles } from "../src/codegen/package.js";
import { blockLibrary } from "../src/codegen/pipeline.js";
import { regenerate } from "../src/codegen/regen.js";
import { typeCheck } from "../src/codegen/typecheck.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const result = await regenerate(ROOT);

describe("generated/ is current (run `npm run regen` if this fails)", () => {
  it("has a package for every supported spec and nothing else", () => {
    const onDisk = existsSync(join(ROOT, "generated")) ? readdirSync(join(ROOT, "generated")).filter((d) => !d.startsWith(".") && d !== "README.md").sort() : [];
    expect(onDisk).toEqual(result.packages.map((p) => p.dir.slice("generated/".length)).sort());
  });

  for (const p of result.packages) {
    describe(p.dir, () => {
      for (const [path, text] of p.files) {
        it(`${path} matches`, () => {
          const full = join(ROOT, p.dir, path);
          expect(existsSync(full), `${full} is missing`).toBe(true);
          // Compare as strings so a failure shows a line diff.
          expect(readFileSync(full, "utf8")).toBe(text);
        });
      }
      it("has no stale files", () => {
        expect(staleFiles(join(ROOT, p.dir), p.files)).toEqual([]);
      });
      it("modular back end type-checks too", () => {
        expect(typeCheck(new Map([["src/index.ts", emitModular(blockLibrary(), p.input)]]))).toEqual([]);
      });
    });
  }

  it("regeneration is deterministic", async () => {
    const again = await regenerate(ROOT);
    expect(again.packages.map((p) => [...p.files])).toEqual(result.packages.map((p) => [...p.files]));
  });
});
