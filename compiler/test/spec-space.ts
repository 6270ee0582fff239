/**
 * The grammar's space of protocols, as a fast-check arbitrary over the
 * built-in registry's values: every statement kind, every value, every
 * combination (including ones no one would write). Biased towards what the
 * checker accepts (complete receive determinants, at most one statement per
 * event) so that a few hundred draws reach most checker-valid combinations;
 * the tests filter by the checker, never by hand.
 *
 * Shared by the codegen property test and `scripts/spec-gap.ts` (the gap
 * table of docs/protocols.md).
 */
import fc from "fast-check";
import type { Diagnostic } from "../src/diagnostics/types.js";
import type { BlockRef, CheckedProtocol, DepGenStatement, EventKind, LogAction, NonDetStatement, OutputCommitStatement, PiggybackValue, ProtocolIR, RollbackAction } from "../src/ir/types.js";
import { checkProtocol, type CheckOptions } from "../src/passes/check.js";
import { classify } from "../src/passes/classify.js";
import { builtinRegistry } from "../src/registry/builtin-registry.js";
import type { Variable } from "../src/registry/types.js";

export const registry = builtinRegistry();

/** A distinct line per statement so every diagnostic and block has a place. */
const at = (line: number) => ({ line, column: 1, offset: (line - 1) * 100, endOffset: (line - 1) * 100 + 10 });
const ref = (v: Variable, line: number): fc.Arbitrary<BlockRef> => fc.constantFrom(...registry.values(v).map((b) => ({ id: b.id, loc: at(line) })));

const FULL = ["source", "sesn", "dest", "desn"] as const;

const logArb = (line: number): fc.Arbitrary<LogAction> =>
  fc.record({
    info: fc.uniqueArray(ref("event-info", line), { minLength: 1, maxLength: 2, selector: (r) => r.id }),
    how: ref("how-to-log", line),
    where: ref("storage", line),
    loc: fc.constant(at(line)),
  });

const nonDetArb = (event: EventKind, line: number): fc.Arbitrary<NonDetStatement> =>
  fc.record({
    event: fc.constant(event),
    // Mostly complete: an incomplete receive determinant is always an error.
    determinant: fc.oneof({ weight: 9, arbitrary: fc.constant([...FULL]) }, { weight: 1, arbitrary: fc.subarray([...FULL]) }),
    log: fc.option(logArb(line), { nil: null, freq: 4 }),
    loc: fc.constant(at(line)),
  });

const piggybackArb = (line: number): fc.Arbitrary<PiggybackValue> =>
  fc.oneof(
    ref("pb-value", line),
    fc.record({ id: fc.constant("determinants"), tracking: ref("pb-tracking", line), loc: fc.constant(at(line)) }),
  );

const depGenArb = (event: EventKind, line: number): fc.Arbitrary<DepGenStatement> =>
  fc.record({
    event: fc.constant(event),
    piggyback: fc.uniqueArray(piggybackArb(line), { maxLength: 3, selector: (p) => p.id }),
    log: fc.option(logArb(line + 1), { nil: null }),
    loc: fc.constant(at(line)),
  });

const EVENTS: readonly EventKind[] = ["receive", "read", "send", "write"];

const rollbackArb: fc.Arbitrary<RollbackAction> = fc.oneof(
  fc.record({ kind: fc.constant("log" as const), info: fc.uniqueArray(ref("event-info", 40), { minLength: 1, maxLength: 2, selector: (r) => r.id }), storage: ref("storage", 40), loc: fc.constant(at(40)) }),
  fc.record({ kind: fc.constant("checkpoint" as const), info: fc.constant([]), storage: ref("storage", 40), loc: fc.constant(at(40)) }),
);

export const specArb: fc.Arbitrary<ProtocolIR> = fc
  .record({
    f: fc.integer({ min: 1, max: 3 }),
    checkpointIntervalMs: fc.integer({ min: 1, max: 60_000 }),
    flushIntervalMs: fc.integer({ min: 1, max: 10_000 }),
    // receive most of the time, read sometimes, send/write rarely (warnings only)
    nonDetEvents: fc.record({ receive: fc.integer({ min: 0, max: 6 }), read: fc.boolean(), send: fc.integer({ min: 0, max: 9 }), write: fc.integer({ min: 0, max: 9 }) }),
    nonDet: fc.tuple(nonDetArb("receive", 1), nonDetArb("read", 3), nonDetArb("send", 5), nonDetArb("write", 7)),
    outputCommit: fc.array(
      fc.record({ proto: ref("output-commit-proto", 10), events: fc.uniqueArray(fc.constantFrom(...EVENTS), { minLength: 1, maxLength: 2 }) }),
      { maxLength: 2 },
    ),
    depGenEvents: fc.uniqueArray(fc.constantFrom<EventKind>("send", "send", "send", "receive", "read", "write"), { maxLength: 2 }),
    depGen: fc.tuple(depGenArb("send", 20), depGenArb("receive", 22), depGenArb("read", 24), depGenArb("write", 26)),
    checkpoint: fc.option(
      fc.record({ proto: ref("ckpt-proto", 30), how: ref("how-to-ckpt", 30), storage: ref("storage", 30), impl: ref("ckpt-impl", 31), loc: fc.constant(at(30)) }),
      { nil: null, freq: 3 },
    ),
    retrieve: fc.option(ref("recovery-get-det-proto", 36), { nil: null, freq: 2 }),
    orphans: fc.option(ref("orphan-detection-proto", 38), { nil: null, freq: 2 }),
    rollback: fc.option(rollbackArb, { nil: null, freq: 3 }),
  })
  .map((r): ProtocolIR => {
    const [rcv, rd, snd, wr] = r.nonDet;
    const nonDeterministic: NonDetStatement[] = [];
    if (r.nonDetEvents.receive > 0) nonDeterministic.push(rcv);
    if (r.nonDetEvents.read) nonDeterministic.push(rd);
    if (r.nonDetEvents.send === 0) nonDeterministic.push(snd);
    if (r.nonDetEvents.write === 0) nonDeterministic.push(wr);
    const byEvent = new Map(r.depGen.map((d) => [d.event, d]));
    // Output commit statements: one per event (two protocols on one event is E-output-commit-conflict).
    const outputCommit: OutputCommitStatement[] = [];
    const committed = new Set<EventKind>();
    for (const oc of r.outputCommit) {
      const events = oc.events.filter((e) => !committed.has(e));
      if (events.length === 0) continue;
      for (const e of events) committed.add(e);
      outputCommit.push({ proto: oc.proto, events, loc: at(10 + outputCommit.length) });
    }
    return {
      irVersion: 1,
      name: "prop",
      options: { f: r.f, checkpointIntervalMs: r.checkpointIntervalMs, flushIntervalMs: r.flushIntervalMs },
      nonDeterministic,
      outputCommit,
      dependencyGenerating: r.depGenEvents.map((e) => byEvent.get(e)!),
      checkpoint: r.checkpoint,
      recovery: { retrieveDeterminants: r.retrieve, orphanDetection: r.orphans, onRollback: r.rollback, loc: at(36) },
    };
  });

/**
 * The checker's verdict on an IR: its diagnostics, and the checked protocol
 * when there is no error. `{ generator: false }`: the verdict before block
 * selection's refusals (what the refusal table is drawn from).
 */
export function checkIR(ir: ProtocolIR, opts: CheckOptions = {}): { diagnostics: Diagnostic[]; checked: CheckedProtocol | undefined } {
  const diagnostics = checkProtocol(ir, registry, "prop.egida", opts);
  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics, checked: undefined };
  return { diagnostics, checked: { ir, classification: classify(ir, registry) } };
}

const VALUE_CLASSES: ReadonlyArray<readonly [Variable, string]> = [
  ["storage", "<storage>"],
  ["how-to-log", "<how>"],
  ["pb-tracking", "<tracking>"],
  ["orphan-detection-proto", "<orphan-detection>"],
];

/**
 * A refusal's construct as a class: values that vary within one construct
 * (storages, sync/async, tracking, orphan protocols) become placeholders, and
 * info lists are sorted, so the table and the allowlist have one row per kind
 * of construct rather than one per value.
 */
export function constructKey(construct: string): string {
  let k = construct.replace(/\s*\(spec \d+:\d+\)/, "");
  for (const [v, ph] of VALUE_CLASSES) for (const b of registry.values(v)) k = k.replace(new RegExp(`(?<![\\w-])${b.id}(?![\\w-])`, "g"), ph);
  k = k.replace(/Log (determinant|message)(, (determinant|message))?/g, (_m, a: string, _b, c: string | undefined) => `Log ${[a, c].filter(Boolean).sort().join(", ")}`);
  return k;
}

/** Spec text in which every span of `specArb` exists (line L starts at offset (L-1)*100; codegen quotes spec text). */
export const PROP_SOURCE = Array.from({ length: 45 }, (_, i) => `// statement on line ${i + 1}`.padEnd(99, " ")).join("\n");
