/** Block selection over the repository's specs: what is built, in chain order, and what is refused. */
import { describe, expect, it } from "vitest";
import { selectBlocks, UnsupportedProtocolError } from "../src/blocks/select.js";
import { BLOCK_MODULES } from "../src/blocks/index.js";
import { HOOKS, HOOK_NAMES } from "../src/blocks/hooks.js";
import { loadSpec } from "../../test/protocols/spec.js";

describe("selectBlocks", () => {
  it("receiver-based pessimistic: event log with contents, synchronous, full checkpoints", () => {
    const b = selectBlocks(loadSpec("receiver-based-pessimistic.egida"));
    const log = b.find((x) => x.file === "log/event-log.ts")!;
    expect(log.params).toEqual({ "log.medium": "nfs-disk", "log.message": true, "log.sync": true });
    expect(log.loc?.line).toBeGreaterThan(0);
    expect(b.find((x) => x.file === "checkpoint/store.ts")!.params).toEqual({ "ckpt.sync": false, "ckpt.incremental": false });
    expect(b.some((x) => x.file === "commit/independent.ts")).toBe(true);
  });

  it("Fig 4a SBY: determinants only; the sender log is the retransmission buffer", () => {
    const b = selectBlocks(loadSpec("fig4a-sby.egida"));
    expect(b.find((x) => x.file === "log/event-log.ts")!.params["log.message"]).toBe(false);
    const rt = b.find((x) => x.file === "core/retransmit.ts")!;
    expect(rt.module).toBe("LogEventInfo");
    expect(rt.loc).toBeDefined();
    expect(b.find((x) => x.file === "checkpoint/store.ts")!.params["ckpt.incremental"]).toBe(true);
  });

  it("Fig 4b: determinants on volatile memory of processes", () => {
    const b = selectBlocks(loadSpec("fig4b-f-replicated.egida"));
    expect(b.find((x) => x.file === "log/event-log.ts")!.params["log.medium"]).toBe("volatile-memory-of-processes");
  });

  it("chain order: core first/last positions, every file exists, hooks well-formed", () => {
    const b = selectBlocks(loadSpec("fig4a-sby.egida"));
    const files = b.map((x) => x.file);
    expect(files[0]).toBe("core/ssn.ts");
    expect(files.at(-1)).toBe("checkpoint/store.ts");
    expect(files.indexOf("checkpoint/restore.ts")).toBeLessThan(files.indexOf("collect/stable-log.ts"));
    expect(files.indexOf("collect/stable-log.ts")).toBeLessThan(files.indexOf("core/recovery.ts"));
    expect(files.indexOf("log/event-log.ts")).toBeLessThan(files.indexOf("core/deliver.ts"));
    expect(new Set(files).size).toBe(files.length);
    for (const f of files) {
      const m = BLOCK_MODULES[f];
      expect(m, f).toBeDefined();
      for (const h of HOOK_NAMES) {
        const fn = m![h] as ((...a: never[]) => unknown) | undefined;
        if (fn) expect(fn.constructor.name === "AsyncFunction", `${f} ${h}`).toBe(HOOKS[h].async);
      }
    }
  });

  it.each([
    ["coordinated-checkpointing.egida", "coordinated", "ckpt-only/snapshot.ts"],
    ["communication-induced-checkpointing.egida", "communication-induced", "checkpoint/independent.ts"],
    ["independent-checkpointing.egida", "independent", "checkpoint/independent.ts"],
  ])("%s: checkpoint-only blocks (rounds, commit on lines, epoch piggyback)", (file, kind, timer) => {
    const b = selectBlocks(loadSpec(file));
    const files = b.map((x) => x.file);
    expect(b.find((x) => x.file === "ckpt-only/rounds.ts")!.params).toEqual({ "cp.kind": kind });
    expect(files).toContain(timer);
    expect(files).not.toContain("core/pump.ts");
    expect(files).not.toContain("core/output-emit.ts");
    expect(files.at(-1)).toBe("ckpt-only/store.ts");
    expect(files.indexOf("ckpt-only/index-pb.ts")).toBeLessThan(files.indexOf("core/deliver.ts"));
    expect(b.find((x) => x.file === "ckpt-only/index-pb.ts")!.params["cp.force"]).toBe(kind !== "independent");
  });

  it.each([
  ])("%s is refused, naming the construct", (file, re) => {
    expect(() => selectBlocks(loadSpec(file))).toThrow(UnsupportedProtocolError);
    expect(() => selectBlocks(loadSpec(file))).toThrow(re);
  });
});
