/**
 * The synchronous delivery fast path's contract (core/deliver.ts): the pump
 * skips awaiting the onDeliver chain when `s.dlvSync` is set, and
 * core/deliver sets it at its end. A block AFTER core/deliver in some
 * protocol's chain whose onDeliver awaits (or, not async, returns a promise
 * for the chain to wait on) must clear the flag before that await or
 * return, or the pump would start the next delivery while it is still
 * running. Checked statically over every checked-in spec's selection, so a
 * new block placed after core/deliver cannot break it silently.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { regenerate } from "../src/codegen/regen.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BLOCKS = fileURLToPath(new URL("../src/blocks/", import.meta.url));

/** A block file's code without its comments. */
function code(file: string): string {
  return readFileSync(BLOCKS + file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/.*$/gm, "");
}

/** The body of `export [async] function onDeliver` in a block file (comments removed), or null. */
function onDeliverBody(file: string): string | null {
  const text = code(file);
  const at = text.search(/export (async )?function onDeliver\(/);
  if (at < 0) return null;
  const end = text.indexOf("\n}\n", at);
  return text.slice(at, end < 0 ? undefined : end);
}

describe("onDeliver chains and the synchronous fast path", async () => {
  const { packages } = await regenerate(ROOT);

  it("every protocol's onDeliver chain ends with core/deliver or with blocks that keep s.dlvSync honest", () => {
    expect(packages.length).toBeGreaterThan(5);
    for (const p of packages) {
      const files = p.input.blocks.map((b) => b.file);
      const at = files.indexOf("core/deliver.ts");
      expect(at, `${p.spec}: core/deliver selected`).toBeGreaterThanOrEqual(0);
      for (const f of files.slice(at + 1)) {
        const body = onDeliverBody(f);
        if (body === null) continue;
        const waits = [body.indexOf("await "), body.indexOf("return ")].filter((i) => i >= 0);
        if (waits.length === 0) continue;
        const firstWait = Math.min(...waits);
        const clear = body.indexOf("s.dlvSync = false");
        expect(clear >= 0 && clear < firstWait, `${p.spec}: ${f} waits in onDeliver after core/deliver without clearing s.dlvSync first`).toBe(true);
      }
    }
  });

  it("core/deliver sets the flag last and the pumps clear it before each delivery", () => {
    const deliver = onDeliverBody("core/deliver.ts")!;
    expect(deliver.trimEnd().endsWith("s.dlvSync = true;")).toBe(true);
    // The handler's pending promise goes back to the chain before the flag is set.
    expect(deliver.indexOf("return r;")).toBeGreaterThan(0);
    expect(deliver.indexOf("return r;")).toBeLessThan(deliver.indexOf("s.dlvSync = true;"));
    for (const pump of ["core/pump.ts", "ckpt-only/pump.ts"]) {
      const text = code(pump);
      const calls = text.split("s.onDeliver(").length - 1;
      expect(calls, pump).toBeGreaterThan(0);
      expect(text.split(/s\.dlvSync = false;\s*(?:const p = |p = )s\.onDeliver\(/).length - 1, pump).toBe(calls);
    }
  });
});
