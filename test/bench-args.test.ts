/**
 * Every benchmark takes --help and answers a wrong flag with one usage line
 * and exit 2, never a stack trace (bench/args.ts). Nothing is measured.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const BENCHES = ["compile", "overhead", "overhead-host", "piggyback", "storage", "parse", "job", "transport"];

const bench = (name: string, args: readonly string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", join(ROOT, `bench/${name}.ts`), ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });

describe("benchmark flags", () => {
  it.each(BENCHES)("bench/%s.ts: --help exits 0 with its usage; a wrong flag is one line and exit 2", (name) => {
    const help = bench(name, ["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^Usage: .*bench/${name}\\.ts`));
    const bad = bench(name, ["--no-such-flag"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(new RegExp(`^bench/${name}\\.ts: Unknown option '--no-such-flag'\\nUsage: `));
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
