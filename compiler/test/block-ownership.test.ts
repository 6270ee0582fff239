/**
 * One owner per format: every control tag of blocks/tags.ts, every log
 * record format and every checkpoint state key is owned by exactly one block
 * manifest, the block whose code uses it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BLOCK_MANIFESTS } from "../src/blocks/block-manifests.js";
import * as TAGS from "../src/blocks/tags.js";

const BLOCKS = fileURLToPath(new URL("../src/blocks/", import.meta.url));
const source = (file: string): string => readFileSync(join(BLOCKS, file), "utf8");
const manifests = Object.entries(BLOCK_MANIFESTS);

/** Every .ts file under blocks/ (blocks and the library files they use). */
function allFiles(dir = BLOCKS): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [relative(BLOCKS, join(dir, e.name)).split(sep).join("/")] : []));
}

function owners(pick: (m: (typeof manifests)[number][1]) => readonly string[] | undefined, name: string): string[] {
  return manifests.filter(([, m]) => (pick(m) ?? []).includes(name)).map(([f]) => f);
}

describe("control tags", () => {
  const tags = Object.keys(TAGS).filter((k) => k.startsWith("TAG_"));
  it("tags.ts has tags", () => expect(tags.length).toBeGreaterThan(20));
  for (const tag of tags) {
    it(`${tag} has exactly one owner, which uses it`, () => {
      const o = owners((m) => m.owns.tags, tag);
      expect(o, `${tag} is owned by ${o.length === 0 ? "no manifest" : o.join(", ")}`).toHaveLength(1);
      const code = source(o[0]!).split("export const manifest")[0]!;
      expect(code).toMatch(new RegExp(`\\b${tag}\\b`));
    });
  }
  it("manifests own only tags that exist", () => {
    for (const [f, m] of manifests) for (const t of m.owns.tags ?? []) expect(tags, f).toContain(t);
  });
});

describe("log record formats", () => {
  // Every log a block or library file opens: host.storage.openLog(medium, "name").
  const opened = new Map<string, string[]>();
  for (const f of allFiles()) for (const r of source(f).matchAll(/openLog\([^,]+,\s*"([^"]+)"\)/g)) opened.set(r[1]!, [...(opened.get(r[1]!) ?? []), f]);
  it("logs are opened", () => expect(opened.size).toBeGreaterThan(3));
  for (const [log, files] of opened) {
    it(`log "${log}" has exactly one owner, a block that opens it`, () => {
      const o = owners((m) => m.owns.records?.map((r) => r.log), log);
      expect(o, `log "${log}" is owned by ${o.length === 0 ? "no manifest" : o.join(", ")}`).toHaveLength(1);
      expect(files).toContain(o[0]);
    });
  }
  it("manifests own only logs that are opened", () => {
    for (const [f, m] of manifests) for (const r of m.owns.records ?? []) expect([...opened.keys()], f).toContain(r.log);
  });
});

describe("checkpoint state keys", () => {
  const keys = new Map<string, string[]>();
  for (const f of allFiles()) for (const r of source(f).matchAll(/state\["([^"]+)"\] =/g)) keys.set(r[1]!, [...new Set([...(keys.get(r[1]!) ?? []), f])]);
  for (const [key, files] of keys) {
    it(`"${key}" has exactly one owner, the block that writes it`, () => {
      expect(owners((m) => m.owns.state, key)).toEqual(files);
    });
  }
});
