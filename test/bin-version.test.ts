/**
 * Every bin of every published package answers `--version` (and `-V`) with
 * its package's version on stdout and exit status 0. The bins are found from
 * each package.json's `bin` map, so a new bin is covered without editing this
 * file. Runs the built bins (`npm run build` first), as an installed package does.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PACKAGES = ["runtime-core", "compiler"];

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly bin?: Readonly<Record<string, string>>;
}

const bins = PACKAGES.flatMap((dir) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8")) as Manifest;
  return Object.entries(pkg.bin ?? {}).map(([name, file]) => ({ name, file: join(ROOT, dir, file), pkg }));
});

describe("bins --version", () => {
  it("finds the bins (egida-run, egida-gen)", () => {
    expect(bins.map((b) => b.name).sort()).toEqual(expect.arrayContaining(["egida-gen", "egida-run"]));
  });

  for (const b of bins) {
    for (const flag of ["--version", "-V"]) {
      it(`${b.name} ${flag} prints ${b.pkg.name}'s version and exits 0`, () => {
        const r = spawnSync(process.execPath, [b.file, flag], { encoding: "utf8", timeout: 30_000 });
        expect(r.stderr).toBe("");
        expect(r.stdout).toBe(`${b.pkg.version}\n`);
        expect(r.status).toBe(0);
      });
    }
  }
});
