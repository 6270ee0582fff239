/**
 * README.md's proof and benchmark table is generated from docs/figures.json
 * by `npm run figures` (scripts/figures.ts). The check fails the suite when
 * someone edits one without the other; the copies below show that the check
 * can fail, that a rewrite fixes it, and that a malformed file is one line.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { END, parseFigures, renderTable, START } from "../scripts/figures.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SCRIPT = join(ROOT, "scripts/figures.ts");
const tmp = mkdtempSync(join(tmpdir(), "egida-figures-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function figures(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", SCRIPT, ...args], { cwd: ROOT, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("npm run figures", () => {
  it("README.md's table matches docs/figures.json (--check)", () => {
    const r = figures("--check");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("every entry names a command and an existing doc; the real-process campaign entry is there", () => {
    const list = parseFigures(readFileSync(join(ROOT, "docs/figures.json"), "utf8"), "docs/figures.json");
    expect(list.length).toBeGreaterThanOrEqual(5);
    for (const f of list) expect(() => readFileSync(join(ROOT, f.doc))).not.toThrow();
    expect(list.some((f) => f.command.startsWith("npm run campaign:real"))).toBe(true);
    // No history in the front door's figures: no commit hashes, no run letters.
    for (const f of list) expect(`${f.claim} ${f.figure}`).not.toMatch(/\b[0-9a-f]{7,40}\b|\brun [A-Z]\b/);
  });

  it("--check exits 1 on a stale copy; a rewrite makes it pass and keeps the text around the table", () => {
    const readme = join(tmp, "README.md");
    const json = join(tmp, "figures.json");
    const entries = [{ claim: "a | b", figure: "1,000/s", command: "npx tsx bench/x.ts --n 1", doc: "docs/x.md" }];
    writeFileSync(json, JSON.stringify(entries));
    writeFileSync(readme, `# t\n\nbefore\n\n${START}\n| old |\n${END}\n\nafter\n`);

    const stale = figures("--check", "--readme", readme, "--figures", json);
    expect(stale.status).toBe(1);
    expect(stale.stderr.trim().split("\n")).toHaveLength(1);
    expect(stale.stderr).toContain("npm run figures");

    expect(figures("--readme", readme, "--figures", json).status).toBe(0);
    const text = readFileSync(readme, "utf8");
    expect(text).toBe(`# t\n\nbefore\n\n${START}\n${renderTable(entries)}\n${END}\n\nafter\n`);
    expect(text).toContain("| a \\| b | 1,000/s | `npx tsx bench/x.ts --n 1` | [docs/x.md](docs/x.md) |");
    expect(figures("--check", "--readme", readme, "--figures", json).status).toBe(0);
  });

  it("a malformed figures file or a README without the markers is exit 2 with one line, no stack", () => {
    const readme = join(tmp, "README2.md");
    const json = join(tmp, "bad.json");
    writeFileSync(readme, `${START}\n${END}\n`);
    writeFileSync(json, JSON.stringify([{ claim: "x", figure: "", command: "c", doc: "d" }]));
    const bad = figures("--check", "--readme", readme, "--figures", json);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^figures: .*entry 0: "figure" must be a non-empty one-line string\n$/);

    writeFileSync(json, "[]");
    writeFileSync(readme, "# no markers\n");
    const noMarkers = figures("--readme", readme, "--figures", json);
    expect(noMarkers.status).toBe(2);
    expect(noMarkers.stderr).toMatch(/^figures: .*needs exactly one <!-- FIGURES-START --> … <!-- FIGURES-END --> block\n$/);
  });
});
