/**
 * Property: for random protocols from the grammar's space (the ones the block
 * library implements; the rest must be refused with UnsupportedProtocolError,
 * never mis-generated), both back ends produce code that type-checks strictly
 * against the runtime SPI, deterministically. Bounded: ~25 distinct outputs.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { UnsupportedProtocolError } from "../src/blocks/select.js";
import { emitInline } from "../src/codegen/inline.js";
import { emitModular } from "../src/codegen/modular.js";
import { blockLibrary, emitInputFor } from "../src/codegen/pipeline.js";
import { typeCheck } from "../src/codegen/typecheck.js";
import type { BlockRef, CheckedProtocol, CheckpointStatement, DepGenStatement, LogAction, OutputCommitStatement, ProtocolIR } from "../src/ir/types.js";

const ref = (id: string): BlockRef => ({ id });
const loc = (line: number) => ({ line, column: 1, offset: 0, endOffset: 1 });

const logAction = (infos: string[], how: string, where: string, line: number): LogAction => ({ info: infos.map(ref), how: ref(how), where: ref(where), loc: loc(line) });

const arbIR: fc.Arbitrary<ProtocolIR> = fc
  .record({
    withMessage: fc.boolean(),
    how: fc.constantFrom("synchronously", "synchronously", "asynchronously"),
    where: fc.constantFrom("nfs-disk", "local-disk", "volatile-memory-of-processes", "volatile-memory-of-self"),
    senderLog: fc.boolean(),
    piggyback: fc.constantFrom(null, null, null, "vector-clock", "determinants"),
    commit: fc.constantFrom(null, "independent", "independent", "coordinated"),
    retrieve: fc.constantFrom(null, "centralized", "distributed"),
    ckpt: fc.option(
      fc.record({
        proto: fc.constantFrom("independent", "independent", "coordinated"),
        how: fc.constantFrom("synchronously", "asynchronously"),
        storage: fc.constantFrom("nfs-disk", "local-disk"),
        impl: fc.constantFrom("full", "incremental"),
      }),
    ),
    f: fc.integer({ min: 1, max: 3 }),
    checkpointIntervalMs: fc.integer({ min: 1, max: 60_000 }),
    flushIntervalMs: fc.integer({ min: 1, max: 10_000 }),
  })
  .map((r): ProtocolIR => {
    const depGen: DepGenStatement[] = [];
    if (r.senderLog) depGen.push({ event: "send", piggyback: [], log: logAction(["message"], "synchronously", "volatile-memory-of-self", 3), loc: loc(3) });
    if (r.piggyback !== null) depGen.push({ event: "send", piggyback: [ref(r.piggyback)], log: null, loc: loc(4) });
    const outputCommit: OutputCommitStatement[] = r.commit === null ? [] : [{ proto: ref(r.commit), events: ["write"], loc: loc(5) }];
    const checkpoint: CheckpointStatement | null = r.ckpt === null ? null : { proto: ref(r.ckpt.proto), how: ref(r.ckpt.how), storage: ref(r.ckpt.storage), impl: ref(r.ckpt.impl), loc: loc(6) };
    return {
      irVersion: 1,
      name: "prop",
      options: { f: r.f, checkpointIntervalMs: r.checkpointIntervalMs, flushIntervalMs: r.flushIntervalMs },
      nonDeterministic: [
        { event: "receive", determinant: ["source", "sesn", "dest", "desn"], log: logAction(r.withMessage ? ["determinant", "message"] : ["determinant"], r.how, r.where, 2), loc: loc(1) },
      ],
      outputCommit,
      dependencyGenerating: depGen,
      checkpoint,
      recovery: { retrieveDeterminants: r.retrieve === null ? null : ref(r.retrieve), orphanDetection: null, onRollback: null },
    };
  });

const SOURCE = ["receive: determinant : {source, sesn, dest, desn}", "Log ... on ...", "send: Log message on volatile memory of self", "send: Piggyback ...", "... output commit on write", "... checkpoint ..."].join("\n");

describe("property: generated code type-checks for every implementable protocol", () => {
  it("both back ends, zero type errors, deterministic", () => {
    const lib = blockLibrary();
    const seen = new Set<string>();
    let generated = 0;
    let refused = 0;
    fc.assert(
      fc.property(arbIR, (ir) => {
        const checked: CheckedProtocol = { ir, classification: { family: "pessimistic", guarantees: [] } };
        let input;
        try {
          input = emitInputFor(checked, SOURCE, "specs/prop.egida");
        } catch (e: unknown) {
          if (e instanceof UnsupportedProtocolError) {
            refused++;
            return true;
          }
          throw e;
        }
        for (const emit of [emitInline, emitModular]) {
          const code = emit(lib, input);
          expect(emit(lib, input)).toBe(code);
          if (seen.has(code) || seen.size >= 24) continue;
          seen.add(code);
          generated++;
          expect(typeCheck(new Map([["src/index.ts", code]]))).toEqual([]);
        }
        return true;
      }),
      { numRuns: 150, seed: 20_240_601 },
    );
    // The generator must actually reach the implemented space.
    expect(generated).toBeGreaterThan(4);
    expect(refused).toBeGreaterThan(0);
  }, 60_000);
});
