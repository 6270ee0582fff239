import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// Issue 2, item 7: a block added from outside the compiler (a package named in
// egida.config.json) is accepted by `check` and shown by `explain`, with no
// compiler edit. The fixture adds the stable storages `replicated ssd` and
// `tape archive` (logs only); plugin-path adds an orphan-detection value.
const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "compiler/bin/egida-gen.js");
const SPEC = "compiler/test/fixtures/plugin-demo/specs/replicated-ssd.egida";

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("egida-gen with a plugin block", () => {
  it("check accepts the plugin's storage value, judged by its traits like a built-in medium (no warning: it generates)", () => {
    const r = run(["check", "--json", SPEC]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const ir = JSON.parse(r.stdout) as { nonDeterministic: { log: { where: { id: string } } }[] };
    expect(ir.nonDeterministic[0]?.log.where.id).toBe("replicated-ssd");
  });

  it("a plugin medium that keeps no checkpoints: checkpoints on it are an error whose hint names the registry's media, the plugin's included", () => {
    const r = run(["check", "compiler/test/fixtures/plugin-demo/specs/tape.egida"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tape\.egida:4:42: error: checkpoints on tape-archive, a medium that keeps no checkpoints .*\[E-checkpoint-medium\]/);
    expect(r.stderr).toContain("hint: checkpoint on `NFS disk`, `local disk`, `replicated ssd` or `volatile memory of processes`");
  });

  it("a plugin value other than a medium that the built-in blocks cannot generate: check warns, and says compile will refuse", () => {
    const r = run(["check", "compiler/test/fixtures/plugin-path/specs/gossip-optimistic.egida"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/gossip-optimistic\.egida:8:30: warning: not supported yet: plugin value `gossip-vector-clock` \(orphan-detection-proto\): only plugin storage media are generated: `egida-gen compile` will refuse this spec .*\[W-plugin-not-generated\]/);
  });

  it("explain shows the plugin's binding", () => {
    const r = run(["explain", SPEC]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("storage `replicated-ssd` → egida-plugin-demo/runtime#openReplicatedSsdLog");
  });

  it("the same spec without the plugin's config is rejected at the value", () => {
    const r = run(["check", "--json", "-"]);
    // stdin is not a spec file: usage or read error, never a stack trace
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
});
