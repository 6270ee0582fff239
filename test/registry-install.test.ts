/**
 * The packages install from a registry and work there, as a user gets them:
 * a throwaway verdaccio (temp storage, temp config) gets runtime-core,
 * egida-gen and one generated protocol published; then, in an empty directory
 * whose .npmrc names only that registry, `npm install egida-gen`,
 * `npx egida-gen compile SPEC --build`, `npm install` in the result, and
 * `npx egida-run --kill` on an example app, under the compiled package and
 * under the published one, must give the failure-free run's outputs.
 *
 * The @egida/* packages and egida-gen exist only in the local registry (no
 * uplink for them: a name not published here is a 404, never a fetch). Their
 * third-party dependencies (ajv, commander, ts-morph, typescript, ...) come
 * through verdaccio's uplink to the npm registry this workspace installs from
 * (`npm config get registry`); npm's own cache is used as usual, so a warm
 * cache downloads little. Without that registry the test skips, saying so.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { npmChildEnv, runChild, runChildOk, type ChildRun } from "./lib/npm-child.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const NPX = process.platform === "win32" ? "npx.cmd" : "npx";
const SPEC = "receiver-based-pessimistic";
const PUBLISHED_PROTOCOL = "independent-checkpointing";
const APP = "all-to-all.mjs";

const childEnv = (userconfig: string): NodeJS.ProcessEnv => npmChildEnv({ npm_config_userconfig: userconfig });
const run = (cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<ChildRun> => runChild(cmd, args, cwd, env, timeoutMs);
const ok = (cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<ChildRun> => runChildOk(cmd, args, cwd, env, timeoutMs);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (addr !== null && typeof addr === "object" ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

function version(dir: string): string {
  return (JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8")) as { version: string }).version;
}

/** Per rank, the committed outputs of an `egida-run --output` file, in release order. */
function outputsByRank(file: string): unknown[][] {
  const per: unknown[][] = [];
  for (const line of readFileSync(file, "utf8").split("\n").filter((l) => l !== "")) {
    const { rank, data } = JSON.parse(line) as { rank: number; data: unknown };
    (per[rank] ??= []).push(data);
  }
  return per;
}

const tmp = mkdtempSync(join(tmpdir(), "egida-registry-"));
let verdaccio: ChildProcess | undefined;
let verdaccioLog = "";
let registry = "";
let env: NodeJS.ProcessEnv = {};

/** Starts verdaccio on a free port; resolves once it answers /-/ping. */
async function startVerdaccio(upstream: string): Promise<void> {
  const bin = join(dirname(createRequire(import.meta.url).resolve("verdaccio/package.json")), "bin", "verdaccio");
  const open = { access: "$all", publish: "$authenticated", unpublish: "$authenticated" };
  const config = {
    storage: join(tmp, "storage"),
    auth: { htpasswd: { file: join(tmp, "htpasswd"), max_users: 10 } },
    uplinks: { npmjs: { url: upstream, timeout: "60s", max_fails: 5 } },
    // Only third-party names reach the uplink: the egida packages are whatever was published here, or nothing.
    packages: { "@egida/*": open, "egida-gen": open, "**": { ...open, proxy: "npmjs" } },
    web: { enable: false },
    log: { type: "stdout", format: "pretty", level: "warn" },
    max_body_size: "200mb",
  };
  // JSON is YAML; verdaccio reads .yaml files with js-yaml.
  writeFileSync(join(tmp, "verdaccio.yaml"), JSON.stringify(config, null, 2));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(process.execPath, [bin, "--config", join(tmp, "verdaccio.yaml"), "--listen", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] });
    verdaccio = child;
    child.stdout!.on("data", (d: Buffer) => (verdaccioLog += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (verdaccioLog += d.toString()));
    const url = `http://127.0.0.1:${port}/`;
    const deadline = Date.now() + 60_000;
    while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
      try {
        if ((await fetch(`${url}-/ping`)).ok) {
          registry = url;
          return;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await stopVerdaccio();
    // Another process may have taken the port between freePort() and verdaccio's listen.
    if (attempt === 2) throw new Error(`verdaccio did not start:\n${verdaccioLog}`);
  }
}

async function stopVerdaccio(): Promise<void> {
  const child = verdaccio;
  verdaccio = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** A registry user, and the token npm publishes with (the registry's own adduser endpoint, as `npm adduser` uses). */
async function addUser(): Promise<string> {
  const name = "egida-test";
  const res = await fetch(`${registry}-/user/org.couchdb.user:${name}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password: "egida-test-password", email: "test@example.invalid" }),
  });
  const body = (await res.json()) as { token?: string };
  if (!res.ok || typeof body.token !== "string") throw new Error(`verdaccio adduser: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

let uplinkProblem: string | null = null;

beforeAll(async () => {
  for (const f of ["runtime-core/dist/index.js", "compiler/dist/cli/main.js"]) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} missing: run npm run build first`);
  }
  // The registry the workspace installs from (the developer's or CI's npm config as is).
  const upstream = (await run(NPM, ["config", "get", "registry"], ROOT, process.env)).stdout.trim() || "https://registry.npmjs.org/";
  await startVerdaccio(upstream.endsWith("/") ? upstream : `${upstream}/`);
  const token = await addUser();
  const host = registry.replace(/^https?:/, "");
  // The only config npm reads besides the project's: this registry and its token.
  writeFileSync(join(tmp, "user.npmrc"), `registry=${registry}\n${host}:_authToken=${token}\n`);
  env = childEnv(join(tmp, "user.npmrc"));
  // A third-party package through the uplink: without the npm registry nothing can install.
  try {
    const res = await fetch(`${registry}commander`, { signal: AbortSignal.timeout(60_000) });
    if (!res.ok) uplinkProblem = `the local registry's uplink ${upstream} answered ${res.status} for commander`;
  } catch (e) {
    uplinkProblem = `the local registry's uplink ${upstream} is unreachable: ${e instanceof Error ? e.message : String(e)}`;
  }
}, 120_000);

afterAll(async () => {
  await stopVerdaccio();
  rmSync(tmp, { recursive: true, force: true });
}, 30_000);

describe("install from a registry (verdaccio)", () => {
  it("egida-gen from the registry compiles and builds a spec; the result and a published protocol run an app through a kill with the failure-free outputs", async (ctx) => {
    // Environment, not code: the third-party dependencies cannot come from anywhere.
    if (uplinkProblem !== null) ctx.skip(uplinkProblem);

    // 1. Publish runtime-core, egida-gen (its prepack copies the templates in) and a checked-in generated package.
    const tgz = join(tmp, "tgz");
    mkdirSync(tgz);
    await ok(NPM, ["pack", "--silent", "--pack-destination", tgz, "-w", "runtime-core", "-w", "compiler"], ROOT, env);
    for (const t of readdirSync(tgz).sort()) await ok(NPM, ["publish", join(tgz, t)], tmp, env);

    // The generated package is copied out (its prepack writes dist/), gets its dev tools from the registry, and builds on publish.
    const pub = join(tmp, "publish-protocol");
    cpSync(join(ROOT, "generated", PUBLISHED_PROTOCOL), pub, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)$/.test(src) });
    await ok(NPM, ["install", "--prefer-online"], pub, env);
    await ok(NPM, ["publish"], pub, env);
    const publishedName = `@egida/protocol-${PUBLISHED_PROTOCOL}`;

    // 2. A user's empty directory, pointing at the local registry only.
    const user = join(tmp, "user");
    mkdirSync(user);
    writeFileSync(join(user, "package.json"), JSON.stringify({ name: "user-app", private: true, type: "module" }, null, 2));
    writeFileSync(join(user, ".npmrc"), `registry=${registry}\n`);
    await ok(NPM, ["install", "--prefer-online", "egida-gen"], user, env);
    expect((await ok(NPX, ["egida-gen", "--version"], user, env)).stdout).toBe(`${version("compiler")}\n`);
    expect((await ok(NPX, ["egida-run", "--version"], user, env)).stdout).toBe(`${version("runtime-core")}\n`);

    // 3. Compile and build a spec with the installed compiler; install the result.
    cpSync(join(ROOT, "specs", `${SPEC}.egida`), join(user, `${SPEC}.egida`));
    const compiled = await ok(NPX, ["egida-gen", "compile", `${SPEC}.egida`, "--out", "proto", "--build"], user, env);
    expect(compiled.stdout).toMatch(/built proto: \d+ files in dist\//);
    const proto = join(user, "proto");
    const protoPkg = JSON.parse(readFileSync(join(proto, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(protoPkg.dependencies["@egida/runtime-core"]).toBe(version("runtime-core"));
    await ok(NPM, ["install", "--prefer-online"], proto, env);
    expect(existsSync(join(proto, "node_modules/@egida/runtime-core/package.json"))).toBe(true);
    await ok(NPM, ["install", "--prefer-online", publishedName], user, env);
    // Built by its prepack on publish: the checked-in package has sources only.
    expect(existsSync(join(user, "node_modules", publishedName, "dist/index.js"))).toBe(true);

    // 4. The app, failure-free and then with rank 1 SIGKILLed at its 20th delivery, under both protocols.
    cpSync(join(ROOT, "examples/apps", APP), join(user, APP));
    const egidaRun = async (protocol: string, out: string, kill: boolean): Promise<ChildRun> =>
      ok(NPX, ["egida-run", "-n", "3", "--protocol", protocol, ...(kill ? ["--kill", "1@20msgs"] : []), "--output", out, "--timeout", "60000", "-q", APP], user, env);
    await egidaRun("none", "ref.jsonl", false);
    const reference = outputsByRank(join(user, "ref.jsonl"));
    expect(reference.map((r) => r.length)).toEqual([1, 1, 1]);
    for (const [protocol, out] of [["./proto", "compiled.jsonl"], [publishedName, "published.jsonl"]] as const) {
      const r = await egidaRun(protocol, out, true);
      expect(r.stdout + r.stderr, protocol).toMatch(/rank 1: deliveries \d+, outputs 1, restarts 1\b/);
      expect(outputsByRank(join(user, out)), protocol).toEqual(reference);
    }
  }, 600_000);
});
