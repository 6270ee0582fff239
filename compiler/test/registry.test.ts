import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadRegistry, loadSpecFile, parseSpec } from "../src/frontend.js";
import { BUILTIN_BLOCKS } from "../src/registry/builtin.js";
import { createRegistry, VARIABLES } from "../src/registry/registry.js";
import { spellingProblem } from "../src/registry/shape.js";
import { findConfig } from "../src/config/find-config.js";
import { validator } from "../src/config/schemas.js";
import type { BlockDef } from "../src/registry/types.js";

const fixture = (p: string) => fileURLToPath(new URL(`fixtures/${p}`, import.meta.url));

/** Figure 2, as (variable, spelling as the paper writes it, canonical id). */
const FIGURE_2: [string, string, string][] = [
  ["output-commit-proto", "independent", "independent"],
  ["output-commit-proto", "co-ordinated", "coordinated"],
  ["event-info", "determinant", "determinant"],
  ["event-info", "message", "message"],
  ["event-info", "data", "message"],
  ["how-to-log", "synchronously", "synchronously"],
  ["how-to-log", "asynchronously", "asynchronously"],
  ["storage", "local disk", "local-disk"],
  ["storage", "volatile memory of self", "volatile-memory-of-self"],
  ["storage", "NFS disk", "nfs-disk"],
  ["storage", "volatile memory of processes", "volatile-memory-of-processes"],
  ["pb-value", "determinants", "determinants"],
  ["pb-tracking", "dependency matrix", "dependency-matrix"],
  ["pb-tracking", "stability matrix", "stability-matrix"],
  ["pb-tracking", "stability vector", "stability-vector"],
  ["pb-value", "vector clock", "vector-clock"],
  ["pb-value", "logical clock", "logical-clock"],
  ["pb-value", "checkpoint counter", "checkpoint-counter"],
  ["ckpt-proto", "independent", "independent"],
  ["ckpt-proto", "co-ordinated", "coordinated"],
  ["ckpt-proto", "communication-induced", "communication-induced"],
  ["how-to-ckpt", "synchronously", "synchronously"],
  ["how-to-ckpt", "asynchronously", "asynchronously"],
  ["ckpt-impl", "full", "full"],
  ["ckpt-impl", "incremental", "incremental"],
  ["recovery-get-det-proto", "centralized", "centralized"],
  ["recovery-get-det-proto", "distributed", "distributed"],
  ["orphan-detection-proto", "broadcast logical clock", "broadcast-logical-clock"],
  ["orphan-detection-proto", "exchange vector clock", "exchange-vector-clock"],
];

describe("registry: built-in blocks", () => {
  const { registry, problems } = createRegistry(BUILTIN_BLOCKS);
  it("built-ins register without conflicts and validate against the block schema", () => {
    expect(problems).toEqual([]);
    // The schema is a plugin's: it requires a binding, which built-in values do not have (their blocks are).
    expect(validator("block")(BUILTIN_BLOCKS)).toBe(false);
    expect(validator("block")(BUILTIN_BLOCKS.map((b) => ({ ...b, binding: { module: "p", export: "x" } })))).toBe(true);
  });
  it.each(FIGURE_2)("%s `%s` → %s", (variable, spelling, id) => {
    const b = registry.resolve(variable as BlockDef["variable"], spelling);
    expect(b?.id).toBe(id);
    expect(registry.resolve(variable as BlockDef["variable"], `  ${spelling.toUpperCase().replace(/ /g, "  ")} `)?.id).toBe(id);
    expect(registry.get(variable as BlockDef["variable"], id)).toBe(b);
  });
  it("every Figure 2 value exactly once; nothing else built in", () => {
    const ids = new Set(FIGURE_2.map(([v, , id]) => `${v}/${id}`));
    expect(registry.all().map((b) => `${b.variable}/${b.id}`).sort()).toEqual([...ids].sort());
    for (const v of VARIABLES) expect(registry.values(v).length).toBeGreaterThan(0);
  });
  it("storage traits and bindings", () => {
    expect(registry.get("storage", "volatile-memory-of-self")?.storage).toEqual({ stable: false, volatileAllowed: true });
    expect(registry.get("storage", "volatile-memory-of-processes")?.storage?.needsF).toBe(true);
    // Built-in values name no runtime export: the blocks that implement them are their binding (registry-bindings.test.ts).
    expect(registry.get("storage", "nfs-disk")?.binding).toBeUndefined();
    for (const b of registry.all()) expect(b.origin).toBe("egida-gen");
  });
  it("rejects conflicting ids and spellings", () => {
    const dup = { ...BUILTIN_BLOCKS[0]!, origin: "x" };
    expect(createRegistry([...BUILTIN_BLOCKS, dup]).problems.length).toBeGreaterThan(0);
    const alias: BlockDef = { ...BUILTIN_BLOCKS[0]!, id: "other", spellings: ["Independent"], origin: "x" };
    expect(createRegistry([...BUILTIN_BLOCKS, alias]).problems[0]!.message).toMatch(/already denotes `independent`/);
  });
  it("rejects spellings the grammar cannot parse", () => {
    expect(spellingProblem("ckpt-proto", "two phase")).toMatch(/one word/);
    expect(spellingProblem("storage", "log server")).toMatch(/reserved/);
    expect(spellingProblem("storage", "disk on host")).toMatch(/reserved/);
    expect(spellingProblem("storage", "my checkpoint disk")).toMatch(/checkpoint/);
    expect(spellingProblem("storage", "s3://bucket")).toMatch(/not letters/);
    expect(spellingProblem("storage", "replicated ssd")).toBeNull();
    expect(spellingProblem("pb-value", "checkpoint counter")).toBeNull();
  });
});

describe("registry: plugins from egida.config.json", () => {
  it("a plugin package adds a storage value the front end then accepts", async () => {
    const { registry, diagnostics } = await loadRegistry(fixture("plugin-demo/specs"));
    expect(diagnostics).toEqual([]);
    expect(registry.resolve("storage", "Replicated SSD")).toMatchObject({ id: "replicated-ssd", origin: "egida-plugin-demo" });
    const r = await loadSpecFile(fixture("plugin-demo/specs/replicated-ssd.egida"));
    expect(r.diagnostics).toEqual([]);
    expect(r.ir!.name).toBe("ssd-pessimistic");
    expect(r.ir!.nonDeterministic[0]!.log!.where.id).toBe("replicated-ssd");
    expect(r.ir!.checkpoint!.storage.id).toBe("replicated-ssd");
  });
  it("without the config the value is unknown", async () => {
    const { registry } = await loadRegistry(tmpdir());
    const r = parseSpec("send: Log message synchronously on replicated ssd", "t.egida", registry);
    expect(r.diagnostics[0]!.code).toBe("E-unknown-value");
  });
  it("a plugin referenced by relative path", async () => {
    const r = await loadSpecFile(fixture("plugin-path/specs/gossip.egida"));
    expect(r.diagnostics).toEqual([]);
    expect(r.ir!.recovery.orphanDetection?.id).toBe("gossip-vector-clock");
  });
  it("config lookup goes upward from the spec's directory", () => {
    expect(findConfig(fixture("plugin-demo/specs"))).toBe(fixture("plugin-demo/egida.config.json"));
  });

  function project(config: string, files: Record<string, string> = {}): string {
    const dir = mkdtempSync(join(tmpdir(), "egida-reg-"));
    writeFileSync(join(dir, "egida.config.json"), config);
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(join(dir, p, ".."), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
    return dir;
  }
  const pkg = (name: string, body: string) => ({
    [`node_modules/${name}/package.json`]: JSON.stringify({ name, type: "module", exports: "./index.js" }),
    [`node_modules/${name}/index.js`]: body,
  });

  it("missing package → diagnostic with hint and config location", async () => {
    const dir = project('{\n  "plugins": ["egida-plugin-nope"]\n}');
    const { diagnostics, registry } = await loadRegistry(dir);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: "E-plugin", path: "/plugins/0", loc: { line: 2, column: 15 } });
    expect(diagnostics[0]!.hint).toMatch(/npm install egida-plugin-nope/);
    expect(registry.resolve("storage", "NFS disk")).toBeDefined();
  });
  it("bad config shape", async () => {
    const { diagnostics } = await loadRegistry(project('{"plugin": ["x"]}'));
    expect(diagnostics[0]).toMatchObject({ code: "E-config", path: "/" });
    expect(diagnostics[0]!.message).toMatch(/unknown property `plugin`/);
    expect((await loadRegistry(project("{ nope"))).diagnostics[0]!.code).toBe("E-config");
  });
  it("bad plugin exports", async () => {
    const noBlocks = await loadRegistry(project('{"plugins": ["p"]}', pkg("p", "export const x = 1;")));
    expect(noBlocks.diagnostics[0]!.message).toMatch(/does not export `blocks`/);
    const badShape = await loadRegistry(project('{"plugins": ["p"]}', pkg("p", 'export const blocks = [{ variable: "storage", id: "Bad Id" }];')));
    expect(badShape.diagnostics.length).toBeGreaterThan(0);
    expect(badShape.diagnostics.every((d) => d.code === "E-plugin" && d.hint)).toBe(true);
    const throws = await loadRegistry(project('{"plugins": ["p"]}', pkg("p", 'throw new Error("boom");')));
    expect(throws.diagnostics[0]!.message).toMatch(/failed to load: boom/);
    const conflict = await loadRegistry(
      project('{"plugins": ["p"]}', pkg("p", 'export const blocks = [{ variable: "storage", id: "nfs-disk", spellings: ["nfs"], module: "StableStorage", description: "", binding: { module: "p", export: "x" } }];')),
    );
    expect(conflict.diagnostics[0]!.message).toMatch(/already registered by egida-gen/);
  });
});
