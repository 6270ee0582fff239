import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { explain, explainProtocol, type Explanation, type EventFlow, type FlowKind } from "../src/explain/index.js";
import { parseSpec } from "../src/frontend.js";
import type { ProtocolIR } from "../src/ir/types.js";
import { builtinRegistry } from "../src/registry/builtin-registry.js";
import { blocksImplementing } from "../src/registry/implemented-by.js";

const registry = builtinRegistry();
const SPECS = join(import.meta.dirname, "../../specs");
const KINDS: readonly FlowKind[] = ["non-deterministic", "dependency-generating", "output-commit", "checkpoint", "recovery"];

function ir(file: string): ProtocolIR {
  const r = parseSpec(readFileSync(join(SPECS, file)), `specs/${file}`, registry);
  if (!r.ir) throw new Error(r.diagnostics.map((d) => d.message).join("; "));
  return r.ir;
}
const model = (file: string): Explanation => explainProtocol(ir(file), registry);
const flow = (e: Explanation, kind: FlowKind): EventFlow => {
  const f = e.flows.find((x) => x.kind === kind);
  if (!f) throw new Error(`no ${kind} flow`);
  return f;
};
const modules = (f: EventFlow): string[] => f.steps.map((s) => s.module);

describe("explain model", () => {
  it("covers the five event kinds for every spec", () => {
    for (const file of readdirSync(SPECS).filter((f) => f.endsWith(".egida"))) {
      const kinds = new Set(model(file).flows.map((f) => f.kind));
      expect([...kinds].sort()).toEqual([...KINDS].sort());
    }
  });
  it("Figure 4a: a receive logs its determinant through HowToLog, WhereToLog to stable storage", () => {
    const nd = flow(model("fig4a-sby.egida"), "non-deterministic");
    const m = modules(nd);
    const chain = ["EventHandler", "Determinant", "LogEventDeterminant", "HowToLog", "WhereToLog", "StableStorage"];
    expect(m.filter((x) => chain.includes(x))).toEqual(["EventHandler", ...chain.slice(1), "EventHandler"]);
    const storage = nd.steps.find((s) => s.module === "StableStorage")!;
    // A built-in value is bound to the block files whose manifests implement it.
    expect(storage.block).toEqual({ variable: "storage", id: "nfs-disk", blocks: blocksImplementing("storage", "nfs-disk"), origin: "egida-gen" });
    expect(storage.block!.blocks).toContain("log/event-log.ts");
  });
  it("Figure 4a: a send logs the message in the sender's volatile memory", () => {
    const send = flow(model("fig4a-sby.egida"), "dependency-generating");
    expect(modules(send)).toEqual(["API", "EventHandler", "LogEventInfo", "HowToLog", "WhereToLog", "VolatileStorage", "Network"]);
    expect(send.steps.find((s) => s.module === "VolatileStorage")!.block!.id).toBe("volatile-memory-of-self");
  });
  it("Figure 3b: a send piggybacks determinants (Example 1 of the paper) and recovery is centralized", () => {
    const e = model("fig3b-hybrid-causal.egida");
    const send = flow(e, "dependency-generating");
    const pb = send.steps.find((s) => s.module === "PiggybackLogging")!;
    expect(pb).toMatchObject({ method: "GetPiggyback", block: { variable: "pb-value", id: "determinants" } });
    expect(modules(send)).toContain("VolatileStorage");
    const rec = flow(e, "recovery");
    expect(rec.steps.find((s) => s.module === "CollectDeterminants")!.block).toMatchObject({ id: "centralized", blocks: ["causal/gather.ts", "collect/stable-log.ts", "optimistic/collect.ts"] });
  });
  it("Figure 3a: co-ordinated output commit flushes to stable storage (Example 2 of the paper)", () => {
    const e = model("fig3a-damani-garg.egida");
    const oc = flow(e, "output-commit");
    expect(oc.trigger).toBe("write");
    expect(modules(oc)).toEqual(["API", "EventHandler", "HowToOutputCommit", "LogEventDeterminant", "HowToLog", "WhereToLog", "StableStorage", "Network", "EventHandler"]);
    expect(oc.steps[2]!.block!.id).toBe("coordinated");
    const rec = flow(e, "recovery");
    expect(rec.steps.find((s) => s.module === "OrphanDetection")!.block!.id).toBe("broadcast-logical-clock");
    expect(e.classification.family).toBe("optimistic");
  });
  it("checkpoint flows bind the protocol, how, implementation and storage", () => {
    const ck = flow(model("fig4a-sby.egida"), "checkpoint");
    const ids = ck.steps.filter((s) => s.block).map((s) => `${s.block!.variable}:${s.block!.id}`);
    expect(ids).toEqual(["ckpt-proto:independent", "how-to-ckpt:asynchronously", "ckpt-impl:incremental", "storage:nfs-disk"]);
    expect(modules(ck)).toContain("HowToCheckpoint");
  });
  it("communication-induced checkpointing processes the piggybacked counter on receive", () => {
    const e = model("communication-induced-checkpointing.egida");
    expect(flow(e, "dependency-generating").steps.some((s) => s.module === "PiggybackCheckpointing")).toBe(true);
    expect(flow(e, "checkpoint").notes.join(" ")).toMatch(/higher checkpoint index/);
  });
  it("says what happens when there is no checkpoint or no output commit", () => {
    const e = model("fig3b-hybrid-causal.egida");
    expect(flow(e, "checkpoint").notes[0]).toMatch(/initial state/);
    // Causal with no output-commit statement: the library still commits implicitly (f + 1 holders).
    const causalWrite = flow(e, "output-commit").steps;
    expect(causalWrite.some((s) => s.module === "HowToOutputCommit" && /implicit/.test(s.does))).toBe(true);
    expect(causalWrite.at(-1)!.does).not.toMatch(/at once/);
    // Pessimistic with none: every state is already recoverable, so the output leaves at once.
    expect(flow(model("fig4a-sby.egida"), "output-commit").steps.at(-1)!.does).toMatch(/at once/);
    // Checkpoint-only: outputs wait for a committed recovery line.
    expect(flow(model("coordinated-checkpointing.egida"), "output-commit").steps.some((s) => /committed recovery line/.test(s.does))).toBe(true);
  });
});

describe("explain formats", () => {
  const fig3a = ir("fig3a-damani-garg.egida");
  it("text: family, guarantees, each event kind and bound implementations", () => {
    const t = explain(fig3a, registry);
    expect(t).toMatch(/^Protocol fig3a-damani-garg \(specs\/fig3a-damani-garg\.egida\)\n/);
    expect(t).toContain("Family: optimistic");
    expect(t).toContain("Guarantees:");
    for (const title of ["Non-deterministic event: receive", "Dependency-generating event: send", "Output commit: write", "Checkpoint", "Failure detection and recovery"]) {
      expect(t).toContain(`\n${title}\n`);
    }
    expect(t).toContain("how-to-log `asynchronously` → causal/stable-dets.ts, log/read-log.ts, log/send-log.ts, optimistic/async-log.ts");
    expect(t).not.toContain("@egida/runtime-core#");
    expect(t).toMatch(/HowToOutputCommit\.OutputCommit/);
  });
  it("mermaid: a flowchart with one subgraph per event flow", () => {
    const m = explain(fig3a, registry, "mermaid");
    expect(m.startsWith("flowchart")).toBe(true);
    const e = explainProtocol(fig3a, registry);
    expect(m.match(/^\s*subgraph /gm)!.length).toBe(e.flows.length);
    expect(m.match(/^\s*end$/gm)!.length).toBe(e.flows.length);
    // Every node label is one quoted string: no stray quote inside.
    for (const line of m.split("\n").filter((l) => l.includes("["))) expect(line).toMatch(/^\s*(subgraph )?\w+\["[^"]*"\]$/);
  });
  it("json: the model, parseable and complete", () => {
    const j = JSON.parse(explain(fig3a, registry, "json")) as Explanation;
    expect(j.protocol).toBe("fig3a-damani-garg");
    expect(j.classification.family).toBe("optimistic");
    expect(j.flows.map((f) => f.kind)).toEqual(expect.arrayContaining([...KINDS]));
    expect(j).toEqual(JSON.parse(JSON.stringify(explainProtocol(fig3a, registry))));
  });
  it("every spec renders in every format", () => {
    for (const file of readdirSync(SPECS).filter((f) => f.endsWith(".egida"))) {
      for (const format of ["text", "mermaid", "json"] as const) expect(explain(ir(file), registry, format).length).toBeGreaterThan(100);
    }
  });
  it("an unknown block id is shown unbound rather than crashing (IR from JSON with a stale id)", () => {
    const stale: ProtocolIR = { ...fig3a, recovery: { ...fig3a.recovery, orphanDetection: { id: "gossip" } } };
    expect(explain(stale, registry)).toContain("orphan-detection-proto `gossip` → unbound");
  });
});
