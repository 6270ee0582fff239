/**
 * Which media each log and checkpoint may use comes from the registry's
 * storage traits (blocks/media.ts): a plugin medium is selected like a
 * built-in one, refused by the same rules, and named in the refusals' hints.
 */
import { describe, expect, it } from "vitest";
import { mediaOf } from "../src/blocks/media.js";
import { selectBlocks, UnsupportedProtocolError } from "../src/blocks/select.js";
import { parseSpec } from "../src/frontend.js";
import { classify } from "../src/passes/classify.js";
import { BUILTIN_BLOCKS } from "../src/registry/builtin.js";
import { builtinRegistry } from "../src/registry/builtin-registry.js";
import { createRegistry } from "../src/registry/registry.js";
import type { BlockDef, StorageTraits } from "../src/registry/types.js";

const medium = (id: string, storage: StorageTraits): BlockDef => ({
  variable: "storage",
  id,
  spellings: [id.replace(/-/g, " ")],
  module: storage.stable ? "StableStorage" : "VolatileStorage",
  description: id,
  storage,
  binding: { module: `plugin-${id}/runtime`, export: "store" },
  origin: `plugin-${id}`,
});

const registry = createRegistry([
  ...BUILTIN_BLOCKS,
  {
    variable: "output-commit-proto",
    id: "batched",
    spellings: ["batched"],
    module: "HowToOutputCommit",
    description: "batched",
    binding: { module: "plugin-batched", export: "commit" },
    origin: "plugin-batched",
  },
  medium("mirrored-disk", { stable: true, volatileAllowed: true }),
  medium("quorum-store", { stable: true, volatileAllowed: false, needsF: true, checkpoints: false }),
]).registry;

function select(text: string) {
  const r = parseSpec(text, "t.egida", registry);
  if (!r.ir) throw new Error(r.diagnostics.map((d) => d.message).join("; "));
  return selectBlocks({ ir: r.ir, classification: classify(r.ir, registry) }, registry);
}

function refusal(text: string): UnsupportedProtocolError {
  try {
    select(text);
  } catch (e) {
    if (e instanceof UnsupportedProtocolError) return e;
    throw e;
  }
  throw new Error("selected");
}

const RECEIVE = "receive: determinant : {source, sesn, dest, desn}";

describe("media from the registry's storage traits", () => {
  it("the built-ins give the sets the hints always named", () => {
    const m = mediaOf(builtinRegistry());
    expect([...m.syncLog].sort()).toEqual(["local-disk", "nfs-disk", "volatile-memory-of-processes"]);
    expect([...m.asyncLog].sort()).toEqual(["local-disk", "nfs-disk"]);
    expect([...m.checkpoint].sort()).toEqual(["local-disk", "nfs-disk", "volatile-memory-of-processes", "volatile-memory-of-self"]);
    expect(m.list(m.syncLog)).toBe("`NFS disk`, `local disk` or `volatile memory of processes`");
    expect(m.list(m.asyncLog)).toBe("`NFS disk` or `local disk`");
  });

  it("a stable plugin medium carries a pessimistic log and checkpoints: its id reaches the blocks' medium parameters", () => {
    const blocks = select(`${RECEIVE}\nLog determinant, message synchronously on mirrored disk\nIndependent checkpoint asynchronously on mirrored disk\nImplementation : full`);
    expect(blocks.find((b) => b.file === "log/event-log.ts")?.params["log.medium"]).toBe("mirrored-disk");
    expect(blocks.find((b) => b.file === "checkpoint/restore.ts")?.params["ckpt.medium"]).toBe("mirrored-disk");
  });

  it("an asynchronous (optimistic) log on it too, but not on a replicated plugin medium: the hint names the media that can", () => {
    const opt = (where: string) =>
      `${RECEIVE}\nLog determinant, message asynchronously on ${where}\nCo-ordinated output commit on write\nsend: Piggyback vector clock\nProtocol to detect orphans : broadcast logical clock`;
    expect(select(opt("mirrored disk")).some((b) => b.params["opt.medium"] === "mirrored-disk" || Object.values(b.params).includes("mirrored-disk"))).toBe(true);
    const e = refusal(opt("quorum store"));
    expect(e.construct).toBe("optimistic logs on quorum-store");
    expect(e.hint).toBe("log on `NFS disk`, `local disk` or `mirrored disk`");
  });

  it("a plugin value other than a medium is refused at its place, never built as a built-in block (pessimistic selection builds any output commit as independent)", () => {
    const e = refusal(`${RECEIVE}\nLog determinant, message synchronously on mirrored disk\nBatched output commit on write`);
    expect(e.construct).toBe("plugin value `batched` (output-commit-proto): only plugin storage media are generated");
    expect(e.loc).toMatchObject({ line: 3, column: 1 });
  });

  it("checkpoints on a medium whose value says `checkpoints: false`: E-checkpoint-medium, the hint lists the stable media that keep them", () => {
    const e = refusal(`${RECEIVE}\nLog determinant, message synchronously on quorum store\nIndependent checkpoint asynchronously on quorum store\nImplementation : full`);
    expect(e.code).toBe("E-checkpoint-medium");
    expect(e.hint).toBe("checkpoint on `NFS disk`, `local disk`, `mirrored disk` or `volatile memory of processes`");
  });
});
