import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "compiler/bin/egida-gen.js");
const SPECS = "specs";
const FIG3A = `${SPECS}/fig3a-damani-garg.egida`;
const VERSION = (JSON.parse(readFileSync(join(ROOT, "compiler/package.json"), "utf8")) as { version: string }).version;
const STACK = /\n\s+at .+:\d+:\d+/;

let tmp = "";
beforeAll(() => {
  if (!existsSync(join(ROOT, "compiler/dist/cli/main.js"))) throw new Error("compiler/dist is missing: run `npm run build` at the root first");
  tmp = mkdtempSync(join(tmpdir(), "egida-cli-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns the real bin script, with colour variables controlled (vitest sets FORCE_COLOR itself). */
function run(args: string[], env: Record<string, string> = {}): Run {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !["FORCE_COLOR", "NO_COLOR", "EGIDA_DEBUG"].includes(k)));
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...base, ...env }, encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, content: string | Uint8Array): string {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
}

describe("egida-gen: help and version", () => {
  it("--version prints the package version", () => {
    const r = run(["--version"]);
    expect(r).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    expect(run(["-V"]).stdout).toBe(`${VERSION}\n`);
  });
  it("--help lists the subcommands and exit codes", () => {
    const r = run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: egida-gen \[options\] \[command\]/);
    expect(r.stdout).toMatch(/check \[options\] <spec\.\.\.>/);
    expect(r.stdout).toMatch(/explain \[options\] <spec>/);
    expect(r.stdout).toMatch(/Exit status: 0 ok/);
  });
  it("each subcommand has its own help", () => {
    const check = run(["check", "--help"]);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^Usage: egida-gen check \[options\] <spec\.\.\.>/);
    expect(check.stdout).toMatch(/--json/);
    const explain = run(["help", "explain"]);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toMatch(/--format <format>/);
    expect(explain.stdout).toMatch(/"text", "mermaid", "json"/);
  });
});

describe("egida-gen: usage errors exit 2 without a stack trace", () => {
  const cases: [string, string[], RegExp][] = [
    ["no subcommand", [], /Usage: egida-gen/],
    ["unknown flag", ["check", "--bogus", FIG3A], /egida-gen: error: unknown option '--bogus'/],
    ["unknown global flag", ["--bogus"], /unknown option '--bogus'/],
    ["missing argument", ["check"], /egida-gen: error: missing required argument 'spec'/],
    ["unknown command", ["chek", FIG3A], /unknown command 'chek'[\s\S]*check/],
    ["bad format", ["explain", FIG3A, "--format", "svg"], /argument 'svg' is invalid/],
    ["extra argument", ["explain", FIG3A, FIG3A], /too many arguments/],
  ];
  for (const [name, args, message] of cases) {
    it(name, () => {
      const r = run(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stdout).toBe("");
    });
  }
});

describe("egida-gen check", () => {
  it("valid specs exit 0 and print each protocol's family", () => {
    const r = run(["check", FIG3A, `${SPECS}/fig4a-sby.egida`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${FIG3A}: ok, optimistic (receiver-based)\n${SPECS}/fig4a-sby.egida: ok, pessimistic (sender-based)\n`);
    expect(r.stderr).toBe("");
  });
  it("warnings are allowed: exit 0, warning on stderr", () => {
    const r = run(["check", `${SPECS}/independent-checkpointing.egida`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ok, checkpoint-independent, 1 warning/);
    expect(r.stderr).toMatch(/independent-checkpointing\.egida:\d+:\d+: warning: .*\[W-domino-effect\]/);
  });
  it("a spec with semantic errors exits 1 with located diagnostics", () => {
    const p = file("bad.egida", "receive: determinant : {source, sesn, dest, desn}\nLog determinant synchronously on NFS disk\n");
    const r = run(["check", p]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${p}:1:1: error:`);
    expect(r.stderr).toContain("[E-no-message-replay]");
    expect(r.stderr).toContain("hint:");
    expect(r.stderr).toMatch(/1 error\n$/);
    expect(r.stdout).toBe("");
  });
  it("a syntax error exits 1", () => {
    const r = run(["check", file("syntax.egida", "receive: determinant : {source, sesn\n")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error/);
    expect(r.stderr).not.toMatch(STACK);
  });
  it("one bad spec among good ones: exit 1, the good ones still reported", () => {
    const r = run(["check", FIG3A, join(tmp, "nope.egida")]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${FIG3A}: ok`);
  });
  it("a missing file: `file: error: cannot read ...`, exit 1", () => {
    const missing = join(tmp, "missing.egida");
    const r = run(["check", missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${missing}: error: cannot read ${missing}: no such file or directory (hint: check the path; specs usually end in .egida)\n`);
  });
  it("a directory: cannot read, exit 1", () => {
    const r = run(["check", tmp]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: cannot read .*: is a directory/);
  });
  it("a binary garbage file: an encoding error, exit 1, no stack", () => {
    const bytes = new Uint8Array(512);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 97 + 13) % 256;
    const r = run(["check", file("garbage.egida", bytes)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error/);
    expect(r.stderr).not.toMatch(STACK);
  });
  it("garbage JSON as IR: exit 1, no stack", () => {
    const r = run(["check", file("garbage.json", "{\"irVersion\": 1, \"name\": [}")]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
  });
  it("--json prints the IR, which checks again as a .json spec", () => {
    const r = run(["check", "--json", FIG3A]);
    expect(r.code).toBe(0);
    const ir = JSON.parse(r.stdout) as { irVersion: number; name: string };
    expect(ir).toMatchObject({ irVersion: 1, name: "fig3a-damani-garg" });
    const again = run(["check", file("fig3a.json", r.stdout)]);
    expect(again.stderr).toBe("");
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toMatch(/ok, optimistic/);
  });
  it("diagnostics about IR read from JSON point into the JSON, not the original spec", () => {
    const json = run(["check", "--json", `${SPECS}/independent-checkpointing.egida`]).stdout;
    const p = file("indep.json", json);
    const r = run(["check", p]);
    expect(r.code).toBe(0);
    const m = new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:(\\d+):(\\d+): warning: .*\\[W-domino-effect\\]`).exec(r.stderr);
    expect(m).not.toBeNull();
    const line = json.split("\n")[Number(m![1]) - 1]!;
    expect(line).toMatch(/"proto"/);
  });
  it("--json with several specs prints an array, null for invalid ones", () => {
    const r = run(["check", "--json", FIG3A, join(tmp, "missing.egida")]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as unknown[];
    expect(out).toHaveLength(2);
    expect(out[1]).toBeNull();
  });
});

describe("egida-gen explain", () => {
  it("text by default", () => {
    const r = run(["explain", FIG3A]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Protocol fig3a-damani-garg/);
    expect(r.stdout).toContain("Family: optimistic");
    expect(r.stdout).toContain("Failure detection and recovery");
  });
  it("--format mermaid", () => {
    const r = run(["explain", FIG3A, "--format", "mermaid"]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("flowchart")).toBe(true);
  });
  it("--format json", () => {
    const r = run(["explain", "-f", "json", `${SPECS}/fig4b-f-replicated.egida`]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ protocol: "fig4b-f-replicated", classification: { family: "pessimistic", variant: "replicated" } });
  });
  it("a spec with errors is not explained: exit 1, nothing on stdout", () => {
    const r = run(["explain", file("noft.egida", "Independent output commit on write\n")]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("[E-no-fault-tolerance]");
  });
});

describe("egida-gen: colour", () => {
  const ESC = "\u001b[";
  const bad = () => file("colour.egida", "Independent output commit on write\n");
  it("no colour when stderr is not a terminal", () => {
    expect(run(["check", bad()]).stderr).not.toContain(ESC);
  });
  it("FORCE_COLOR forces it on, NO_COLOR alone turns it off", () => {
    expect(run(["check", bad()], { FORCE_COLOR: "1" }).stderr).toContain(ESC);
    expect(run(["check", bad()], { NO_COLOR: "1" }).stderr).not.toContain(ESC);
    expect(run(["check", bad()], { FORCE_COLOR: "0" }).stderr).not.toContain(ESC);
  });
  it("usage errors are coloured only when asked", () => {
    expect(run(["check", "--bogus"], { FORCE_COLOR: "1" }).stderr).toContain(ESC);
    expect(run(["check", "--bogus"]).stderr).not.toContain(ESC);
  });
});

describe("egida-gen: internal errors (in-process)", () => {
  const io = (env: Record<string, string>) => {
    let stderr = "";
    return {
      io: {
        stdout: () => {
          throw new Error("boom");
        },
        stderr: (t: string) => void (stderr += t),
        stderrIsTTY: false,
        env,
      },
      stderr: () => stderr,
    };
  };
  it("say 'internal error, please report' and hide the stack", async () => {
    const t = io({});
    expect(await main(["check", FIG3A], t.io)).toBe(70);
    expect(t.stderr()).toMatch(/internal error, please report: boom/);
    expect(t.stderr()).not.toMatch(STACK);
  });
  it("show the stack with EGIDA_DEBUG=1", async () => {
    const t = io({ EGIDA_DEBUG: "1" });
    expect(await main(["check", FIG3A], t.io)).toBe(70);
    expect(t.stderr()).toMatch(STACK);
  });
});
