/**
 * `read` determinants: selection (explicit `read:` statements, folding onto
 * the receive-determinant log, refusals) and crash tests with an app that
 * reads non-deterministic input on every step, for the three pessimistic
 * specs and an explicit read statement. A negative control shows the checks
 * catch a protocol that does not log reads.
 */
import { describe, expect, it } from "vitest";
import { compose } from "../../compiler/src/blocks/compose.js";
import { UnsupportedProtocolError } from "../../compiler/src/blocks/select.js";
import { parse } from "../../compiler/src/parse/parse.js";
import { lower } from "../../compiler/src/passes/lower.js";
import { checkProtocol } from "../../compiler/src/passes/check.js";
import { builtinRegistry } from "../../compiler/src/registry/builtin-registry.js";
import type { ProtocolIR } from "../../compiler/src/ir/types.js";
import { runJob, type JobResult } from "./harness.js";
import { counterEnv, readApp, readProblems, type ReadState } from "./read-app.js";
import { loadSpec } from "./spec.js";
import { composeFromIR, selectForIR } from "../../compiler/src/dev/select-ir.js";

function specText(text: string): ProtocolIR {
  const p = parse(text, "inline.egida");
  if (p.ast === null) throw new Error(p.diagnostics.map((d) => d.message).join("; "));
  const { ir, diagnostics } = lower(p.ast, "inline.egida", builtinRegistry());
  if (ir === null) throw new Error(diagnostics.map((d) => d.message).join("; "));
  return { ...ir, options: { ...ir.options, checkpointIntervalMs: 40, flushIntervalMs: 10 } };
}

/** Receiver-based pessimistic, with `read` (a read statement's text, or none) after the receive statement. */
const receiverBased = (read = ""): string => `protocol rb-reads
receive: determinant : {source, sesn, dest, desn}
Log determinant, message synchronously on NFS disk
${read}Independent output commit on write
Independent checkpoint asynchronously on NFS disk
Implementation : full
`;

const readBlock = (ir: ProtocolIR) => selectForIR(ir).find((b) => b.file === "log/read-log.ts");

describe("read determinants: selection", () => {
  it.each([
    ["receiver-based-pessimistic.egida", "nfs-disk"],
    ["fig4a-sby.egida", "nfs-disk"],
    ["fig4b-f-replicated.egida", "volatile-memory-of-processes"],
  ])("%s: folded onto the receive-determinant log's medium (%s)", (file, medium) => {
    const b = readBlock(loadSpec(file));
    expect(b?.params).toEqual({ "read.medium": medium, "read.lostTail": true, "read.async": false, "read.wait": false });
    expect(b?.reason).toMatch(/no read statement/);
  });

  it("an explicit read statement chooses its own medium", () => {
    const b = readBlock(specText(receiverBased("read: determinant : {dest, desn}\nLog determinant synchronously on local disk\n")));
    expect(b?.params).toEqual({ "read.medium": "local-disk", "read.lostTail": true, "read.async": false, "read.wait": false });
    expect(b?.loc?.line).toBe(5);
  });

  // Read determinants that are not synchronously stable make the protocol
  // optimistic (a crash can lose them): the checker rejects these specs, and
  // selection (by family) refuses them too rather than weaken anything.
  const errors = (ir: ProtocolIR) => checkProtocol(ir, builtinRegistry(), "inline.egida").filter((d) => d.severity === "error").map((d) => d.code);

  it("asynchronous read logging is refused, not weakened", () => {
    const ir = specText(receiverBased("read: determinant : {dest, desn}\nLog determinant asynchronously on local disk\n"));
    expect(errors(ir)).toEqual(["E-orphans-undetected"]);
    expect(() => selectForIR(ir)).toThrow(UnsupportedProtocolError);
  });

  it("read determinants on volatile memory of self are refused", () => {
    const ir = specText(receiverBased("read: determinant : {dest, desn}\nLog determinant synchronously on volatile memory of self\n"));
    expect(errors(ir)).toContain("E-determinant-log-volatile");
    expect(() => selectForIR(ir)).toThrow(UnsupportedProtocolError);
  });

  it("read determinants that are not logged are refused", () => {
    const base = specText(receiverBased());
    const ir: ProtocolIR = { ...base, nonDeterministic: [...base.nonDeterministic, { event: "read", determinant: ["dest", "desn"], log: null }] };
    expect(errors(ir)).toContain("E-determinant-not-logged");
    expect(() => selectForIR(ir)).toThrow(UnsupportedProtocolError);
  });
});

const SPECS: readonly (readonly [string, () => ProtocolIR, number])[] = [
  ["receiver-based pessimistic", () => loadSpec("receiver-based-pessimistic.egida", { checkpointIntervalMs: 40, flushIntervalMs: 10 }), 3],
  ["Fig 4a SBY", () => loadSpec("fig4a-sby.egida", { checkpointIntervalMs: 40, flushIntervalMs: 10 }), 3],
  ["Fig 4b f-replicated", () => loadSpec("fig4b-f-replicated.egida", { checkpointIntervalMs: 40, flushIntervalMs: 10 }), 1],
  ["explicit read statement (local disk)", () => specText(receiverBased("read: determinant : {dest, desn}\nLog determinant synchronously on local disk\n")), 3],
];

const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);
const SIZE = 4;

function keysByRank(r: JobResult<ReadState>): string[][] {
  return r.states.map((s) => Object.keys(s.reads).sort());
}

describe.each(SPECS)("read determinants under crashes: %s", (_t, mkIr, concurrent) => {
  const factory = composeFromIR(mkIr());
  const app = () => readApp({ tokens: 2, hops: 24, env: counterEnv() });

  it.each(SEEDS)("seed %i: replay returns the logged values; outputs, tokens and states agree", async (seed) => {
    const ref = await runJob({ factory, app: app(), size: SIZE, seed, crashes: 0 });
    expect(ref.errors).toEqual([]);
    expect(readProblems(ref.states, ref.outputs, SIZE)).toEqual([]);
    const run = await runJob({
      factory,
      app: app(),
      size: SIZE,
      seed,
      crashes: 5,
      crashWindow: [1, 150],
      maxConcurrent: concurrent,
      restartDelay: 3 + (seed % 9),
    });
    expect(run.crashedRanks.length).toBeGreaterThan(0);
    expect(run.errors).toEqual([]);
    expect(run.retractions).toEqual([]);
    expect(run.done.every((d) => d)).toBe(true);
    expect(run.survivorRollbacks).toBe(0);
    expect(readProblems(run.states, run.outputs, SIZE)).toEqual([]);
    expect(keysByRank(run)).toEqual(keysByRank(ref));
  });
});

describe("negative control: the same checks catch a protocol that does not log reads", () => {
  it("without log/read-log.ts, replays re-read and the run is inconsistent", async () => {
    const ir = loadSpec("receiver-based-pessimistic.egida", { checkpointIntervalMs: 40, flushIntervalMs: 10 });
    const factory = compose(
      selectForIR(ir).filter((b) => b.file !== "log/read-log.ts"),
      { name: ir.name, defaultF: ir.options.f },
    );
    let caught = 0;
    for (const seed of SEEDS) {
      const run = await runJob({ factory, app: readApp({ tokens: 2, hops: 24, env: counterEnv() }), size: SIZE, seed, crashes: 5, crashWindow: [1, 150], restartDelay: 5 });
      if (run.retractions.length > 0 || readProblems(run.states, run.outputs, SIZE).length > 0) caught++;
    }
    expect(caught).toBeGreaterThan(SEEDS.length / 2);
  });
});
