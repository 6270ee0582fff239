import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseSpec } from "../src/frontend.js";
import { builtinRegistry } from "../src/registry/builtin-registry.js";
import { validator } from "../src/config/schemas.js";

const registry = builtinRegistry();
const SPECS = new URL("../../specs/", import.meta.url);
const specFiles = readdirSync(SPECS).filter((f) => f.endsWith(".egida"));

function irOf(name: string) {
  const r = parseSpec(readFileSync(new URL(name, SPECS)), name, registry);
  expect(r.diagnostics).toEqual([]);
  return r.ir!;
}

describe("IR JSON Schema (draft 2020-12)", () => {
  it("the schema declares draft 2020-12", () => {
    const schema = JSON.parse(readFileSync(new URL("../schema/ir.schema.json", import.meta.url), "utf8")) as { $schema: string };
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
  });
  it.each(specFiles)("specs/%s lowers to IR that validates", (name) => {
    const validate = validator("ir");
    const ir = irOf(name);
    expect(validate(JSON.parse(JSON.stringify(ir))), JSON.stringify(validate.errors)).toBe(true);
  });
  it("rejects bad IR with a JSON pointer", () => {
    const validate = validator("ir");
    const ir = JSON.parse(JSON.stringify(irOf("fig4a-sby.egida"))) as Record<string, unknown>;
    (ir["options"] as Record<string, unknown>)["f"] = 0;
    expect(validate(ir)).toBe(false);
    expect(validate.errors!.some((e) => e.instancePath === "/options/f")).toBe(true);
  });
});

describe("parseSpec on .json IR files", () => {
  const json = (o: unknown) => JSON.stringify(o, null, 2);
  it("round-trips every spec's IR", () => {
    for (const name of specFiles) {
      const ir = irOf(name);
      const r = parseSpec(json(ir), `${name}.json`, registry);
      expect(r.diagnostics).toEqual([]);
      expect(r.ir).toEqual(JSON.parse(json(ir)));
    }
  });
  it("schema errors carry a pointer path and a location in the JSON text", () => {
    const ir = JSON.parse(json(irOf("fig4a-sby.egida"))) as { nonDeterministic: { event: string }[] };
    ir.nonDeterministic[0]!.event = "recieve";
    const r = parseSpec(json(ir), "x.json", registry);
    expect(r.ir).toBeNull();
    const d = r.diagnostics.find((x) => x.path === "/nonDeterministic/0/event")!;
    expect(d.code).toBe("E-schema");
    expect(d.message).toMatch(/must be one of "send", "receive", "read", "write"/);
    const text = json(ir);
    expect(text.slice(d.loc!.offset, d.loc!.endOffset)).toBe('"recieve"');
  });
  it("unknown properties are rejected", () => {
    const ir = { ...JSON.parse(json(irOf("fig4a-sby.egida"))), extra: 1 } as unknown;
    const r = parseSpec(json(ir), "x.json", registry);
    expect(r.diagnostics[0]!.message).toMatch(/unknown property `extra`/);
  });
  it("ids unknown to the registry, with suggestion", () => {
    const ir = JSON.parse(json(irOf("fig4a-sby.egida"))) as { checkpoint: { storage: { id: string } } };
    ir.checkpoint.storage.id = "nfs-disc";
    const r = parseSpec(json(ir), "x.json", registry);
    expect(r.ir).toBeNull();
    expect(r.diagnostics[0]).toMatchObject({ code: "E-unknown-value", path: "/checkpoint/storage/id", hint: "did you mean `nfs-disk`?" });
  });
  it("JSON syntax errors are located", () => {
    const r = parseSpec('{\n  "irVersion": 1,,\n}', "x.json", registry);
    expect(r.diagnostics[0]).toMatchObject({ code: "E-json" });
    expect(r.diagnostics[0]!.loc).toBeDefined();
  });
  it("invalid names are rejected by the schema", () => {
    const ir = { ...JSON.parse(json(irOf("fig4a-sby.egida"))), name: "Bad Name; rm -rf" } as unknown;
    expect(parseSpec(json(ir), "x.json", registry).diagnostics[0]!.path).toBe("/name");
  });
});
