/**
 * `egida-gen init` end to end, as a user gets it: a project created outside
 * the workspace, whose package.json is pointed at the packed runtime-core and
 * egida-gen (`file:` tarballs, standing in for the registry versions it
 * names), must pass `npm install && npm test` and `npm run start:kill`; and
 * the installed egida-gen's own `init` (templates and specs from the
 * tarball) must work.
 *
 * The project's third-party dev tools (typescript, vitest, @types/node) come
 * from the npm registry this workspace installs from (npm's cache first).
 * Without that registry the test skips, saying so.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../compiler/src/cli/main.js";
import { npmChildEnv, runChild, runChildOk, type ChildRun } from "./lib/npm-child.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const NPX = process.platform === "win32" ? "npx.cmd" : "npx";

const tmp = mkdtempSync(join(tmpdir(), "egida-init-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ENV = npmChildEnv();
const run = (cmd: string, args: readonly string[], cwd: string, timeoutMs?: number): Promise<ChildRun> => runChild(cmd, args, cwd, ENV, timeoutMs);
const ok = (cmd: string, args: readonly string[], cwd: string): Promise<ChildRun> => runChildOk(cmd, args, cwd, ENV);

describe("egida-gen init, installed", () => {
  it("the created project installs from the packed packages; npm test and npm run start:kill pass", async (ctx) => {
    for (const f of ["runtime-core/dist/index.js", "compiler/dist/cli/main.js"]) expect(existsSync(join(ROOT, f)), `${f} missing: run npm run build first`).toBe(true);
    // Environment, not code: without the registry the project's dev tools cannot install.
    const probe = await run(NPM, ["view", "vitest", "version"], tmp, 60_000);
    if (probe.code !== 0) ctx.skip(`the npm registry is unreachable (npm view vitest version: ${(probe.stderr.trim().split("\n")[0] ?? "").slice(0, 200)})`);

    // 1. The two packages as tarballs (egida-gen's prepack copies templates/ and specs/ in).
    const tgz = join(tmp, "tgz");
    mkdirSync(tgz);
    await ok(NPM, ["pack", "--silent", "--pack-destination", tgz, "-w", "runtime-core", "-w", "compiler"], ROOT);
    const tarball = (prefix: string): string => join(tgz, readdirSync(tgz).find((f) => f.startsWith(prefix))!);

    // 2. The project, pointed at the tarballs instead of the registry versions it names.
    const app = join(tmp, "ring-app");
    let err = "";
    const code = await main(["init", app], { stdout: () => undefined, stderr: (t) => void (err += t), stderrIsTTY: false, env: { NO_COLOR: "1" } });
    expect(err).toBe("");
    expect(code).toBe(0);
    const pkgFile = join(app, "package.json");
    const pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies).sort()).toEqual(["@egida/runtime-core", "egida-gen"]);
    pkg.dependencies["@egida/runtime-core"] = `file:${tarball("egida-runtime-core-")}`;
    pkg.dependencies["egida-gen"] = `file:${tarball("egida-gen-")}`;
    writeFileSync(pkgFile, JSON.stringify(pkg, null, 2) + "\n");

    // 3. What the README says to do.
    await ok(NPM, ["install", "--no-audit", "--no-fund", "--prefer-offline"], app);
    // One runtime: egida-gen's own dependency is the project's copy (else the protocol and the app would load two).
    expect(existsSync(join(app, "node_modules/egida-gen/node_modules/@egida/runtime-core"))).toBe(false);
    const test = await ok(NPM, ["test"], app);
    expect(test.stdout).toMatch(/built protocol: \d+ files in dist\//);
    expect(test.stdout).toMatch(/Tests\s+5 passed \(5\)/);
    expect(existsSync(join(app, "dist/app.js"))).toBe(true);

    // 4. Four processes over TCP, rank 2 SIGKILLed at its 10th delivery, restarted and recovered.
    const kill = await ok(NPM, ["run", "start:kill"], app);
    const all = kill.stdout + kill.stderr;
    expect(all).toMatch(/rank 2 killed at its delivery 10/);
    expect(all).toMatch(/rank 2: deliveries \d+, outputs 1, restarts 1\b/);
    const results = [...kill.stdout.matchAll(/^\[rank (\d)\] (\{.*\})$/gm)].map((m) => JSON.parse(m[2]!) as { rank: number; total: number });
    expect(results.map((r) => r.rank).sort()).toEqual([0, 1, 2, 3]);
    expect(new Set(results.map((r) => r.total)).size).toBe(1);

    // 5. The installed egida-gen finds its templates and bundled specs.
    const again = await ok(NPX, ["egida-gen", "init", "second", "--protocol", "receiver-based-pessimistic"], app);
    expect(again.stdout).toMatch(/created second: 8 files \(protocol receiver-based-pessimistic, pessimistic\)/);
    expect(readFileSync(join(app, "second/protocol.egida"), "utf8")).toBe(readFileSync(join(ROOT, "specs/receiver-based-pessimistic.egida"), "utf8"));
    const unknown = await run(NPX, ["egida-gen", "init", "third", "--protocol", "nope"], app);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^egida-gen init: error: --protocol nope: unknown protocol; .*fig4a-sby/);
  }, 900_000);
});
