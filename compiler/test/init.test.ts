/**
 * `egida-gen init`, in process: the files of a new project, its package.json,
 * its spec, that its TypeScript compiles, that its application recovers under
 * every bundled protocol, and the one-line usage errors. Installing the
 * project and running its scripts is test/init-install.test.ts.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulate } from "../../runtime-core/src/index.js";
import type { App } from "../../runtime-core/src/spi.js";
import type { CliIO } from "../src/cli/context.js";
import { main } from "../src/cli/main.js";
import { projectName } from "../src/init/scaffold.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const STACK = /\n\s+at .+:\d+:\d+/;
const versionOf = (dir: string): string => (JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8")) as { version: string }).version;

// Under the workspace (.egida-tmp is gitignored), so the project's imports resolve to the workspace packages.
let tmp = "";
beforeAll(() => {
  mkdirSync(join(ROOT, ".egida-tmp"), { recursive: true });
  tmp = mkdtempSync(join(ROOT, ".egida-tmp", "init-"));
});
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync("umount", ["-l", m], { stdio: "pipe" });
    } catch {
      // Already unmounted.
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

/** A tmpfs at `dir` (root only; see the skip below). False when mounting is refused. */
function mount(dir: string, options: string): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], { stdio: "pipe" });
  } catch {
    return false;
  }
  mounts.push(dir);
  return true;
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), stderrIsTTY: false, env: { NO_COLOR: "1" } };
  const code = await main(argv, io);
  return { code, out, err };
}

function files(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string, prefix: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) visit(join(d, e.name), `${prefix}${e.name}/`);
      else out.push(`${prefix}${e.name}`);
    }
  };
  visit(dir, "");
  return out.sort();
}

interface ProjectPackage {
  name: string;
  private: boolean;
  type: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

describe("egida-gen init", () => {
  it("creates the project: app, spec, test, package.json with build/start/start:kill/test, README, .gitignore", async () => {
    const dir = join(tmp, "My App");
    const r = await run("init", dir);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^created .*My App: 8 files \(protocol fig4a-sby, pessimistic\)\n/);
    expect(r.out).toMatch(/npm install\n\s+npm test/);
    expect(files(dir)).toEqual([".gitignore", "README.md", "package.json", "protocol.egida", "src/app.ts", "test/app.test.ts", "tsconfig.json", "vitest.config.ts"]);

    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as ProjectPackage;
    expect(pkg).toMatchObject({ name: "my-app", private: true, type: "module" });
    expect(pkg.dependencies).toEqual({ "@egida/runtime-core": versionOf("runtime-core"), "egida-gen": versionOf("compiler") });
    expect(Object.keys(pkg.devDependencies).sort()).toEqual(["@types/node", "typescript", "vitest"]);
    expect(pkg.scripts["build"]).toBe("egida-gen compile protocol.egida --out protocol --build && tsc -p tsconfig.json");
    expect(pkg.scripts["start"]).toMatch(/egida-run -n 4 --protocol \.\/protocol dist\/app\.js$/);
    expect(pkg.scripts["start:kill"]).toMatch(/egida-run -n 4 --protocol \.\/protocol --kill 2@10msgs dist\/app\.js$/);
    expect(pkg.scripts["test"]).toMatch(/vitest run$/);

    // The paper's Figure 4a, named: as protocol.egida a headerless spec would be called `protocol`.
    const spec = readFileSync(join(dir, "protocol.egida"), "utf8");
    expect(spec).toBe(`protocol fig4a-sby\n${readFileSync(join(ROOT, "specs/fig4a-sby.egida"), "utf8")}`);
    const check = await run("check", "--json", join(dir, "protocol.egida"));
    expect(check.code).toBe(0);
    expect(JSON.parse(check.out)).toMatchObject({ name: "fig4a-sby" });

    expect(readFileSync(join(dir, ".gitignore"), "utf8").split("\n")).toEqual(expect.arrayContaining(["node_modules/", "dist/", "protocol/"]));
    const readme = readFileSync(join(dir, "README.md"), "utf8");
    expect(readme).toMatch(/^# my-app\n/);
    expect(readme).toMatch(/\*\*fig4a-sby\*\*/);
    expect(readme).toMatch(/npm run start:kill/);
  });

  it("the project's TypeScript (app and test) compiles under strict settings", () => {
    const dir = join(tmp, "My App");
    const config = ts.readConfigFile(join(dir, "tsconfig.json"), (p) => ts.sys.readFile(p));
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, dir);
    expect(parsed.errors).toEqual([]);
    // The test too (the project's tsc builds src/ only): rootDir widened, nothing emitted.
    const program = ts.createProgram([join(dir, "src/app.ts"), join(dir, "test/app.test.ts"), join(dir, "vitest.config.ts")], { ...parsed.options, rootDir: dir, noEmit: true });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n") + (d.file ? ` (${d.file.fileName})` : ""));
    expect(problems).toEqual([]);
  }, 60_000);

  it("the project's application recovers under every bundled protocol: kills give the failure-free outputs", async () => {
    const app = ((await import(pathToFileURL(join(tmp, "My App", "src/app.ts")).href)) as { default: App<unknown> }).default;
    const reference = await simulate({ app, protocol: "none", size: 4, args: ["20"] });
    expect(reference.failure).toBeNull();
    expect(reference.outputs.map((o) => o.length)).toEqual([1, 1, 1, 1]);
    // The schedules of the project's own test (templates/init/test/app.test.ts.hbs), one seed each.
    const schedules = [["2@10msgs"], ["0@7msgs"], ["1@5msgs", "3@15msgs"], ["2@30ms"]];
    const generated = readdirSync(join(ROOT, "generated")).sort();
    expect(generated.length).toBeGreaterThan(10);
    for (const name of generated) {
      for (const kills of schedules) {
        const r = await simulate({ app, protocol: join(ROOT, "generated", name), size: 4, args: ["20"], kills });
        const what = `${name} ${kills.join(",")}`;
        expect(r.failure, what).toBeNull();
        expect(r.restarts, what).toBe(kills.length);
        expect(r.outputs, what).toEqual(reference.outputs);
      }
    }
  }, 120_000);

  it("--protocol NAME takes a bundled spec (its own header kept)", async () => {
    const dir = join(tmp, "rbp");
    const r = await run("init", dir, "--protocol", "receiver-based-pessimistic");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/protocol receiver-based-pessimistic, pessimistic/);
    expect(readFileSync(join(dir, "protocol.egida"), "utf8")).toBe(readFileSync(join(ROOT, "specs/receiver-based-pessimistic.egida"), "utf8"));
    expect(readFileSync(join(dir, "README.md"), "utf8")).toMatch(/\*\*receiver-based-pessimistic\*\*/);
  });

  it("--protocol FILE: a headerless spec gets its name; a nameless header gets the name added", async () => {
    const body = "receive: determinant : {source, sesn, dest, desn}\nLog determinant synchronously on NFS disk\nsend: Log message synchronously on volatile memory of self\n";
    writeFileSync(join(tmp, "my-sby.egida"), body);
    expect((await run("init", join(tmp, "a"), "--protocol", join(tmp, "my-sby.egida"))).code).toBe(0);
    expect(readFileSync(join(tmp, "a/protocol.egida"), "utf8")).toBe(`protocol my-sby\n${body}`);

    writeFileSync(join(tmp, "opts-only.egida"), `// f = 2\nprotocol ( f = 2 )\n${body}`);
    const r = await run("init", join(tmp, "b"), "--protocol", join(tmp, "opts-only.egida"));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(join(tmp, "b/protocol.egida"), "utf8")).toBe(`// f = 2\nprotocol opts-only ( f = 2 )\n${body}`);
    // An empty existing directory is fine.
    mkdirSync(join(tmp, "empty"));
    expect((await run("init", join(tmp, "empty"))).code).toBe(0);
  });

  it("user mistakes: one line, exit 2, no stack, nothing written", async () => {
    const cases: [string[], RegExp][] = [
      [["init", join(tmp, "My App")], /My App: directory exists and is not empty/],
      [["init", join(tmp, "my-sby.egida")], /my-sby\.egida: exists and is not a directory/],
      [["init", join(tmp, "c"), "--protocol", "no-such-protocol"], /--protocol no-such-protocol: unknown protocol; give a spec file \(\.egida\) or one of: .*fig4a-sby.*receiver-based-pessimistic/],
      [["init", join(tmp, "c"), "--protocol", "missing/spec.egida"], /--protocol missing\/spec\.egida: no such spec file/],
      [["init", join(tmp, "c"), "--protocol", "ir.json"], /init takes an Egida spec \(\.egida text\), not IR JSON/],
      [["init", join(tmp, "c"), "--protocol", tmp], /: not a file/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.err, argv.join(" ")).toMatch(message);
      expect(r.err.trimEnd().split("\n"), argv.join(" ")).toHaveLength(1);
      expect(r.err).toMatch(/^egida-gen init: error: /);
      expect(r.err).not.toMatch(STACK);
      expect(r.out).toBe("");
    }
    expect(readdirSync(tmp)).not.toContain("c");
    // A missing DIR argument is commander's usage error.
    expect((await run("init")).code).toBe(2);
  });

  it("a read-only or full file system: one line naming the fault, exit 2, no stack", async (ctx) => {
    const ro = join(tmp, "ro");
    const full = join(tmp, "full");
    // Mounting needs root (CI runs the tests as root); elsewhere there is no real refusing file system to write to.
    if (!mount(ro, "size=64k,ro") || !mount(full, "size=8k")) ctx.skip("cannot mount a tmpfs here (needs root)");
    const cases: [string, RegExp][] = [
      [join(ro, "app"), /cannot write the project into .*ro\/app: EROFS \(read-only file system\)$/],
      [join(full, "app"), /cannot write the project into .*full\/app: ENOSPC \(disk full\)$/],
    ];
    for (const [dir, message] of cases) {
      const r = await run("init", dir);
      expect(r.code, dir).toBe(2);
      expect(r.err.trimEnd().split("\n"), dir).toHaveLength(1);
      expect(r.err.trimEnd(), dir).toMatch(message);
      expect(r.err).not.toMatch(STACK);
    }
  });

  it("a spec with errors: its diagnostics, exit 1, no project", async () => {
    writeFileSync(join(tmp, "bad.egida"), "receive: determinant : {source, sesn, dest, desn}\nLog determinant synchronously on the moon\n");
    const r = await run("init", join(tmp, "d"), "--protocol", join(tmp, "bad.egida"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.egida:2:/);
    expect(r.err).not.toMatch(STACK);
    expect(readdirSync(tmp)).not.toContain("d");
  });

  it("--help lists init; init --help describes it", async () => {
    expect((await run("--help")).out).toMatch(/init \[options\] <dir>\s+create an application project/);
    const help = await run("init", "--help");
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/--protocol <spec>/);
    expect(help.out).toMatch(/start:kill/);
  });

  it("project names are valid npm names", () => {
    expect(projectName("My App")).toBe("my-app");
    expect(projectName("_x")).toBe("x");
    expect(projectName("...")).toBe("egida-app");
    expect(projectName("ok.name-1")).toBe("ok.name-1");
  });
});
