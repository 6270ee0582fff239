/** `egida-gen compile` and `egida-gen build`, in process: files, exit codes, a runnable package. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import type { CliIO } from "../src/cli/context.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "egida-compile-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), stderrIsTTY: false, env: { NO_COLOR: "1" } };
  const code = await main(argv, io);
  return { code, out, err };
}

describe("egida-gen compile / build", () => {
  it("writes a complete package and builds dist/ whose smoke test passes", async () => {
    const out = join(tmp, "rbp");
    const r = await run("compile", join(ROOT, "specs/receiver-based-pessimistic.egida"), "--out", out, "--build");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    for (const f of ["package.json", "README.md", "LICENSE", "tsconfig.json", "src/index.ts", "test/smoke.test.mjs", "dist/index.js", "dist/index.d.ts", "dist/index.js.map"]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const pkg = JSON.parse(readFileSync(join(out, "package.json"), "utf8")) as { name: string; dependencies: Record<string, string> };
    expect(pkg.name).toBe("@egida/protocol-receiver-based-pessimistic");
    const runtime = JSON.parse(readFileSync(join(ROOT, "runtime-core/package.json"), "utf8")) as { version: string };
    expect(pkg.dependencies["@egida/runtime-core"]).toBe(runtime.version);
    // The smoke test runs the built package as installed: its runtime dependency (protocol-lib) from node_modules.
    mkdirSync(join(out, "node_modules/@egida"), { recursive: true });
    symlinkSync(join(ROOT, "runtime-core"), join(out, "node_modules/@egida/runtime-core"), "dir");
    execFileSync(process.execPath, ["--test", "test/"], { cwd: out, stdio: "pipe" });
  });

  it("--emit modular and --package-name", async () => {
    const out = join(tmp, "mod");
    const r = await run("compile", join(ROOT, "specs/fig4a-sby.egida"), "-o", out, "--emit", "modular", "--package-name", "sby-modular");
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "src/index.ts"), "utf8")).toContain("interface LogEventDeterminantModule");
    expect(JSON.parse(readFileSync(join(out, "package.json"), "utf8"))).toMatchObject({ name: "sby-modular" });
  });

  it("--repository sets package.json repository; without it there is none; engines and prepack are those of a publishable package", async () => {
    const withRepo = join(tmp, "repo");
    expect((await run("compile", join(ROOT, "specs/fig4a-sby.egida"), "-o", withRepo, "--repository", "git+https://example.invalid/p.git")).code).toBe(0);
    const pkg = JSON.parse(readFileSync(join(withRepo, "package.json"), "utf8")) as Record<string, unknown>;
    expect(pkg["repository"]).toEqual({ type: "git", url: "git+https://example.invalid/p.git" });
    expect(pkg["engines"]).toEqual({ node: ">=20.15" });
    expect(pkg["scripts"]).toMatchObject({ prepack: "npm run build" });
    const without = join(tmp, "norepo");
    expect((await run("compile", join(ROOT, "specs/fig4a-sby.egida"), "-o", without)).code).toBe(0);
    expect(JSON.parse(readFileSync(join(without, "package.json"), "utf8"))).not.toHaveProperty("repository");
  });

  it("exit 1 for a spec the block library cannot implement, with the spec location and a hint", async () => {
    // A plugin's orphan-detection value has no block implementation (only plugin media are
    // generated): `check` warns, `compile` fails.
    const r = await run("compile", join(ROOT, "compiler/test/fixtures/plugin-path/specs/gossip-optimistic.egida"), "--out", join(tmp, "x"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/gossip-optimistic\.egida:8:30: warning: not supported yet: plugin value `gossip-vector-clock` \(orphan-detection-proto\): .*\[W-plugin-not-generated\]/);
    expect(r.err).toMatch(/gossip-optimistic\.egida:8:30: error: not supported yet: plugin value `gossip-vector-clock` \(orphan-detection-proto\): only plugin storage media are generated \[E-not-supported-yet\]\n.*\n\s*\^~+\nhint: use a built-in orphan-detection-proto value/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("a plugin medium: the factory imports the plugin's store and registers it in `media`; the package depends on the plugin", async () => {
    const out = join(tmp, "ssd");
    const r = await run("compile", join(ROOT, "compiler/test/fixtures/plugin-demo/specs/replicated-ssd.egida"), "--out", out);
    expect(r.code).toBe(0);
    const src = readFileSync(join(out, "src/index.ts"), "utf8");
    expect(src).toContain('import { openReplicatedSsdLog as pluginMedium0 } from "egida-plugin-demo/runtime";');
    expect(src).toMatch(/media: \{\n\s+"replicated-ssd": pluginMedium0,\n\s+\},/);
    const pkg = JSON.parse(readFileSync(join(out, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies["egida-plugin-demo"]).toBe("^1.0.0");
    // A spec with built-in media only has neither.
    const plain = readFileSync(join(ROOT, "generated/receiver-based-pessimistic/src/index.ts"), "utf8");
    expect(plain).not.toMatch(/pluginMedium|media:/);
  });

  it("exit 1 for an unreadable spec, 2 for usage errors", async () => {
    expect((await run("compile", join(tmp, "nope.egida"), "--out", join(tmp, "n"))).code).toBe(1);
    expect((await run("compile", join(ROOT, "specs/fig4a-sby.egida"))).code).toBe(2);
    expect((await run("compile", join(ROOT, "specs/fig4a-sby.egida"), "--out", join(tmp, "y"), "--emit", "fast")).code).toBe(2);
    expect((await run("compile", join(ROOT, "specs/fig4a-sby.egida"), "--out", join(tmp, "y"), "--package-name", "Bad Name")).code).toBe(2);
  });

  it("build on a directory that is not a package: exit 1", async () => {
    expect((await run("build", tmp)).code).toBe(1);
  });
});
