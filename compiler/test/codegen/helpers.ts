/** Shared inputs for the codegen tests: the fixture library and a protocol that selects all of it. */
import { fileURLToPath } from "node:url";
import type { CheckedProtocol } from "../../src/ir/types.js";
import type { EmitBlock, EmitInput } from "../../src/codegen/types.js";

export const FIXTURE_BLOCKS = fileURLToPath(new URL("../fixtures/blocks/", import.meta.url));

export function checked(name: string, f = 1): CheckedProtocol {
  return {
    ir: {
      irVersion: 1,
      name,
      options: { f, checkpointIntervalMs: 2000, flushIntervalMs: 100 },
      nonDeterministic: [],
      outputCommit: [],
      dependencyGenerating: [],
      checkpoint: null,
      recovery: { retrieveDeterminants: null, orphanDetection: null, onRollback: null },
    },
    classification: { family: "pessimistic", variant: "receiver-based", guarantees: ["A failed process returns to exactly its pre-failure state."] },
  };
}

export const SOURCE = [
  "receive: determinant : {source, sesn, dest, desn}",
  "Log determinant synchronously on NFS disk",
  "send: Piggyback vector clock",
  "Independent checkpoint asynchronously on NFS disk",
].join("\n");

export const ALL_BLOCKS: readonly EmitBlock[] = [
  { file: "core/base.ts", id: "core", module: "EventHandler", params: {} },
  { file: "log/det-sync.ts", id: "synchronously", module: "HowToLog", params: { "log.medium": "nfs-disk", "log.sync": true }, loc: { line: 2, column: 1, offset: 51, endOffset: 92 } },
  { file: "piggyback/vector-clock.ts", id: "vector-clock", module: "PiggybackCheckpointing", params: {}, loc: { line: 3, column: 7, offset: 99, endOffset: 120 } },
  { file: "checkpoint/periodic.ts", id: "independent", module: "Checkpoint", params: { "ckpt.intervalMs": 2000, "ckpt.maxOutput": 4096 }, loc: { line: 4, column: 1, offset: 121, endOffset: 170 } },
];

export function input(name = "fixture-proto", blocks: readonly EmitBlock[] = ALL_BLOCKS, source = SOURCE): EmitInput {
  return { checked: checked(name), blocks, source, specFile: `specs/${name}.egida` };
}
