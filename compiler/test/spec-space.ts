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

// ---------------------------------------------------------------- family-shaped specs

/**
 * Specs shaped like each family (pessimistic, causal, optimistic,
 * checkpoint-only), with every value still drawn from the registry and
 * optional statements on top. The whole-grammar draws above rarely give a
 * checker-valid causal or optimistic spec (most random combinations hold a
 * construct those blocks refuse); these reach the generated space of every
 * family, so the property test type-checks all of them. Same line layout as
 * `specArb` (its spans exist in PROP_SOURCE).
 */
const value = (v: Variable, line: number, ids?: readonly string[]): fc.Arbitrary<BlockRef> =>
  fc.constantFrom(...registry.values(v).filter((b) => ids === undefined || ids.includes(b.id)).map((b) => ({ id: b.id, loc: at(line) })));

const logOf = (line: number, info: fc.Arbitrary<readonly string[]>, how: readonly string[] | undefined, where: readonly string[] | undefined): fc.Arbitrary<LogAction> =>
  fc.record({
    info: info.map((ids) => ids.map((id) => ({ id, loc: at(line) }))),
    how: value("how-to-log", line, how),
    where: value("storage", line, where),
    loc: fc.constant(at(line)),
  });

const DET = fc.constant(["determinant"] as const);
const DET_MSG = fc.constant(["determinant", "message"] as const);
const SOME_INFO = fc.constantFrom<readonly string[]>(["determinant"], ["message"], ["determinant", "message"]);
const STABLE = ["local-disk", "nfs-disk", "volatile-memory-of-processes"];
const DISKS = ["local-disk", "nfs-disk"];

const receiveStmt = (log: fc.Arbitrary<LogAction | null>): fc.Arbitrary<NonDetStatement> =>
  log.map((l) => ({ event: "receive", determinant: [...FULL], log: l, loc: at(1) }));
const readStmt = (log: fc.Arbitrary<LogAction | null>): fc.Arbitrary<NonDetStatement | null> =>
  fc.option(log.map((l): NonDetStatement => ({ event: "read", determinant: ["dest", "desn"], log: l, loc: at(3) })), { nil: null, freq: 2 });
const sendStmt = (piggyback: fc.Arbitrary<PiggybackValue[]>, log: fc.Arbitrary<LogAction | null>): fc.Arbitrary<DepGenStatement> =>
  fc.record({ piggyback, log }).map(({ piggyback, log }) => ({ event: "send", piggyback, log, loc: at(20) }));
const checkpointArb = (protos?: readonly string[], storages?: readonly string[]) =>
  fc.record({ proto: value("ckpt-proto", 30, protos), how: value("how-to-ckpt", 30), storage: value("storage", 30, storages), impl: value("ckpt-impl", 31), loc: fc.constant(at(30)) });
const commitArb = (protos?: readonly string[]): fc.Arbitrary<OutputCommitStatement[]> =>
  fc.option(value("output-commit-proto", 10, protos).map((proto): OutputCommitStatement[] => [{ proto, events: ["write"], loc: at(10) }]), { nil: [] as OutputCommitStatement[], freq: 2 });

interface Shape {
  nonDet: readonly (NonDetStatement | null)[];
  commit: readonly OutputCommitStatement[];
  depGen: readonly DepGenStatement[];
  checkpoint: ProtocolIR["checkpoint"];
  retrieve: BlockRef | null;
  orphans: BlockRef | null;
  rollback: RollbackAction | null;
  f: number;
}

const shaped = (s: fc.Arbitrary<Shape>): fc.Arbitrary<ProtocolIR> =>
  s.map((x) => ({
    irVersion: 1,
    name: "prop",
    options: { f: x.f, checkpointIntervalMs: 2000, flushIntervalMs: 100 },
    nonDeterministic: x.nonDet.filter((st): st is NonDetStatement => st !== null),
    outputCommit: x.commit,
    dependencyGenerating: x.depGen,
    checkpoint: x.checkpoint,
    recovery: { retrieveDeterminants: x.retrieve, orphanDetection: x.orphans, onRollback: x.rollback, loc: at(36) },
  }));

const rare = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 4 });
const F = fc.integer({ min: 1, max: 3 });

const pessimisticShape = fc.record({
  nonDet: fc.tuple(
    receiveStmt(logOf(1, fc.constantFrom<readonly string[]>(["determinant"], ["determinant", "message"]), ["synchronously"], STABLE)),
    readStmt(logOf(3, DET, ["synchronously"], STABLE)),
  ),
  commit: commitArb(),
  depGen: fc.option(logOf(21, fc.constant(["message"]), ["synchronously"], ["volatile-memory-of-self"]), { nil: null, freq: 3 }).map((l) => (l === null ? [] : [{ event: "send" as const, piggyback: [], log: l, loc: at(20) }])),
  checkpoint: fc.option(checkpointArb(["independent"]), { nil: null, freq: 4 }),
  retrieve: rare(value("recovery-get-det-proto", 36)),
  orphans: rare(value("orphan-detection-proto", 38)),
  rollback: fc.constant(null),
  f: F,
});

const causalShape = fc.record({
  nonDet: fc.tuple(receiveStmt(fc.option(logOf(2, fc.oneof(DET, DET_MSG), ["asynchronously"], DISKS), { nil: null })), readStmt(fc.constant(null))),
  commit: commitArb(["independent"]),
  depGen: fc
    .tuple(rare(value("pb-tracking", 20)), fc.option(logOf(21, fc.constant(["message"]), undefined, ["volatile-memory-of-self"]), { nil: null, freq: 4 }))
    .chain(([tracking, log]) => sendStmt(fc.constant([tracking === null ? { id: "determinants", loc: at(20) } : { id: "determinants", tracking, loc: at(20) }]), fc.constant(log)))
    .map((st) => [st]),
  checkpoint: fc.option(checkpointArb(["independent"]), { nil: null, freq: 4 }),
  retrieve: rare(value("recovery-get-det-proto", 36)),
  orphans: fc.constant(null),
  rollback: fc.constant(null),
  f: F,
});

const optimisticShape = fc.record({
  nonDet: fc.tuple(receiveStmt(logOf(2, DET_MSG, ["asynchronously"], DISKS)), readStmt(logOf(3, DET, ["asynchronously"], DISKS))),
  commit: commitArb(["coordinated"]),
  depGen: sendStmt(fc.constant([{ id: "vector-clock", loc: at(20) }]), fc.constant(null)).map((st) => [st]),
  checkpoint: fc.option(checkpointArb(["independent"], DISKS), { nil: null, freq: 2 }),
  retrieve: rare(value("recovery-get-det-proto", 36, ["centralized"])),
  orphans: value("orphan-detection-proto", 38, ["broadcast-logical-clock"]),
  rollback: rare(
    fc.oneof(
      fc.record({ kind: fc.constant("log" as const), info: fc.constant([{ id: "determinant", loc: at(40) }, { id: "message", loc: at(40) }]), storage: value("storage", 40, DISKS), loc: fc.constant(at(40)) }),
      fc.record({ kind: fc.constant("checkpoint" as const), info: fc.constant([]), storage: value("storage", 40, DISKS), loc: fc.constant(at(40)) }),
    ),
  ),
  f: F,
});

const checkpointOnlyShape = fc.record({
  nonDet: fc.constant([]),
  commit: fc.constant([]),
  depGen: fc.boolean().map((counter) => (counter ? [{ event: "send" as const, piggyback: [{ id: "checkpoint-counter", loc: at(20) }], log: null, loc: at(20) }] : [])),
  checkpoint: checkpointArb(),
  retrieve: fc.constant(null),
  orphans: fc.constant(null),
  rollback: fc.constant(null),
  f: F,
});

/** One of the four families' shapes, values from the registry, with some statements a user might add (`SOME_INFO` logs, rare extras). */
export const familySpecArb: fc.Arbitrary<ProtocolIR> = fc.oneof(
  shaped(pessimisticShape),
  shaped(causalShape),
  shaped(optimisticShape),
  shaped(checkpointOnlyShape),
  // and each with one statement of the whole grammar on top
  fc.tuple(fc.oneof(shaped(pessimisticShape), shaped(causalShape), shaped(optimisticShape), shaped(checkpointOnlyShape)), fc.constantFrom("receive", "send", "read", "write") as fc.Arbitrary<EventKind>, logOf(25, SOME_INFO, undefined, undefined)).map(([ir, event, log]) =>
    ir.dependencyGenerating.some((st) => st.event === event) ? ir : { ...ir, dependencyGenerating: [...ir.dependencyGenerating, { event, piggyback: [], log, loc: at(24) }] },
  ),
);

/**
 * The draws the refusal table is checked against (codegen-property.test.ts)
 * and `scripts/spec-gap.ts --rows` prints from: one list, so they cannot drift.
 */
export function tableDraws(): ProtocolIR[] {
  return [...fc.sample(specArb, { numRuns: 60_000, seed: 7 }), ...fc.sample(specArb, { numRuns: 20_000, seed: 20_240_601 }), ...fc.sample(familySpecArb, { numRuns: FAMILY_DRAWS, seed: 11 })];
}

/** Family-shaped draws per run of the property test (and in tableDraws). */
export const FAMILY_DRAWS = 3_000;
