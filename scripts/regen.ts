/**
 * `npm run regen`: rewrite generated/<name>/ for every spec in specs/ (see
 * compiler/src/codegen/regen.ts). Removes files a package no longer has and
 * packages whose spec is gone or unsupported. Run after changing specs, block
 * files, emitters or templates; commit the result.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { removeFiles, staleFiles, writePackage } from "../compiler/src/codegen/package.js";
import { regenerate } from "../compiler/src/codegen/regen.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const result = await regenerate(root);
const keep = new Set(result.packages.map((p) => p.dir));
for (const p of result.packages) {
  const out = join(root, p.dir);
  writePackage(out, p.files);
  const stale = staleFiles(out, p.files);
  removeFiles(out, stale);
  console.log(`${p.dir}: ${p.files.size} files from ${p.spec}${stale.length > 0 ? ` (removed ${stale.join(", ")})` : ""}`);
}
const genDir = join(root, "generated");
if (existsSync(genDir)) {
  for (const d of readdirSync(genDir)) {
    if (!keep.has(`generated/${d}`) && !d.startsWith(".") && d !== "README.md") {
      rmSync(join(genDir, d), { recursive: true, force: true });
      console.log(`generated/${d}: removed (no supported spec)`);
    }
  }
}
for (const u of result.unsupported) console.log(`${u.spec}: skipped: ${u.reason}`);
