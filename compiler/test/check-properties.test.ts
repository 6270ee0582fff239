/**
 * Property tests: for any IR built from registry values (including
 * combinations no one would write), the checks, the classifier and explain
 * never throw, agree with each other, and report located diagnostics.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { explain, explainProtocol } from "../src/explain/index.js";
import type { BlockRef, EventKind, LogAction, PiggybackValue, ProtocolIR } from "../src/ir/types.js";
import { checkProtocol } from "../src/passes/check.js";
import { classify } from "../src/passes/classify.js";
import { builtinRegistry } from "../src/registry/builtin-registry.js";
import type { Variable } from "../src/registry/types.js";

const registry = builtinRegistry();
const ref = (v: Variable): fc.Arbitrary<BlockRef> => fc.constantFrom(...registry.values(v).map((b) => ({ id: b.id })));
const event: fc.Arbitrary<EventKind> = fc.constantFrom("send", "receive", "read", "write");
const log: fc.Arbitrary<LogAction> = fc.record({
  info: fc.uniqueArray(ref("event-info"), { minLength: 1, maxLength: 2, selector: (r) => r.id }),
  how: ref("how-to-log"),
  where: ref("storage"),
});
const piggyback: fc.Arbitrary<PiggybackValue> = fc.oneof(
  ref("pb-value"),
  fc.record({ id: fc.constant("determinants"), tracking: ref("pb-tracking") }),
);

const irArb: fc.Arbitrary<ProtocolIR> = fc.record({
  irVersion: fc.constant(1 as const),
  name: fc.constant("prop"),
  options: fc.record({ f: fc.integer({ min: 0, max: 4 }), checkpointIntervalMs: fc.constant(2000), flushIntervalMs: fc.constant(100) }),
  nonDeterministic: fc.uniqueArray(
    fc.record({ event, determinant: fc.subarray(["source", "sesn", "dest", "desn"]), log: fc.option(log, { nil: null }) }),
    { maxLength: 2, selector: (s) => s.event },
  ),
  outputCommit: fc.array(fc.record({ proto: ref("output-commit-proto"), events: fc.uniqueArray(event, { minLength: 1, maxLength: 2 }) }), { maxLength: 2 }),
  dependencyGenerating: fc.uniqueArray(
    fc.record({ event, piggyback: fc.uniqueArray(piggyback, { maxLength: 2, selector: (p) => p.id }), log: fc.option(log, { nil: null }) }),
    { maxLength: 2, selector: (s) => s.event },
  ),
  checkpoint: fc.option(fc.record({ proto: ref("ckpt-proto"), how: ref("how-to-ckpt"), storage: ref("storage"), impl: ref("ckpt-impl") }), { nil: null }),
  recovery: fc.record({
    retrieveDeterminants: fc.option(ref("recovery-get-det-proto"), { nil: null }),
    orphanDetection: fc.option(ref("orphan-detection-proto"), { nil: null }),
    onRollback: fc.option(
      fc.oneof(
        fc.record({ kind: fc.constant("log" as const), info: fc.uniqueArray(ref("event-info"), { minLength: 1, selector: (r) => r.id }), storage: ref("storage") }),
        fc.record({ kind: fc.constant("checkpoint" as const), info: fc.constant([]), storage: ref("storage") }),
      ),
      { nil: null },
    ),
  }),
});

describe("checks, classification and explain on arbitrary IR", () => {
  it("never throw, and every diagnostic is well formed", () => {
    fc.assert(
      fc.property(irArb, (ir) => {
        const ds = checkProtocol(ir, registry, "p.json");
        for (const d of ds) {
          expect(["error", "warning"]).toContain(d.severity);
          expect(d.code).toMatch(d.severity === "error" ? /^E-[a-z-]+$/ : /^W-[a-z-]+$/);
          expect(d.message.length).toBeGreaterThan(0);
          expect(d.hint === undefined || d.hint.length > 0).toBe(true);
          // IR without spans: every diagnostic is located by a pointer that exists in the IR.
          expect(d.path).toBeDefined();
          expect(resolvePointer(ir, d.path!)).not.toBeUndefined();
        }
        for (const format of ["text", "mermaid", "json"] as const) explain(ir, registry, format);
      }),
      { numRuns: 400 },
    );
  });
  it("a protocol with no fault tolerance never passes", () => {
    fc.assert(
      fc.property(irArb, (ir) => {
        if (classify(ir, registry).family !== "none") return;
        expect(checkProtocol(ir, registry, "p.json").some((d) => d.severity === "error")).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
  it("a valid optimistic protocol never promises outputs it cannot keep", () => {
    fc.assert(
      fc.property(irArb, (ir) => {
        const c = classify(ir, registry);
        if (c.family !== "optimistic" || !c.guarantees.some((g) => /never taken back/.test(g))) return;
        expect(ir.outputCommit.some((s) => s.proto.id === "coordinated" && s.events.includes("write"))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
  it("explain shows the same classification as classify", () => {
    fc.assert(
      fc.property(irArb, (ir) => {
        expect(explainProtocol(ir, registry).classification).toEqual(classify(ir, registry));
      }),
      { numRuns: 200 },
    );
  });
});

function resolvePointer(root: unknown, pointer: string): unknown {
  if (pointer === "") return root;
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}
