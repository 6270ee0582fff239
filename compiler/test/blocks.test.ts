/** Block selection over the repository's specs: what is built, in chain order, and what is refused. */
import { describe, expect, it } from "vitest";
import { UnsupportedProtocolError } from "../src/blocks/select.js";
import { BLOCK_MODULES } from "../src/blocks/index.js";
import { HOOKS, HOOK_NAMES } from "../src/blocks/hooks.js";
import { loadSpec } from "../../test/protocols/spec.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseSpec } from "../src/frontend.js";
import type { ProtocolIR } from "../src/ir/types.js";
import { checkProtocol } from "../src/passes/check.js";
import { classify } from "../src/passes/classify.js";
import { builtinRegistry } from "../src/registry/builtin-registry.js";
import { selectForIR } from "../src/dev/select-ir.js";

describe("selectBlocks", () => {
  it("receiver-based pessimistic: event log with contents, synchronous, full checkpoints", () => {
    const b = selectForIR(loadSpec("receiver-based-pessimistic.egida"));
    const log = b.find((x) => x.file === "log/event-log.ts")!;
    expect(log.params).toEqual({ "log.medium": "nfs-disk", "log.message": true });
    // Pessimistic by the durable watermark: appends are not awaited, sends and outputs wait for the sync.
    expect(b.find((x) => x.file === "log/watermark.ts")!.params).toEqual({ "wm.message": true });
    expect(b.map((x) => x.file).indexOf("log/watermark.ts")).toBeLessThan(b.map((x) => x.file).indexOf("core/transmit.ts"));
    expect(log.loc?.line).toBeGreaterThan(0);
    expect(b.find((x) => x.file === "checkpoint/store.ts")!.params).toEqual({ "ckpt.sync": false, "ckpt.incremental": false });
    expect(b.some((x) => x.file === "commit/independent.ts")).toBe(true);
  });

  it("Fig 4a SBY: determinants only; the sender log is the retransmission buffer", () => {
    const b = selectForIR(loadSpec("fig4a-sby.egida"));
    expect(b.find((x) => x.file === "log/event-log.ts")!.params["log.message"]).toBe(false);
    const rt = b.find((x) => x.file === "core/retransmit.ts")!;
    expect(rt.module).toBe("LogEventInfo");
    expect(rt.loc).toBeDefined();
    expect(b.find((x) => x.file === "checkpoint/store.ts")!.params["ckpt.incremental"]).toBe(true);
  });

  it("Fig 4b: determinants on volatile memory of processes", () => {
    const b = selectForIR(loadSpec("fig4b-f-replicated.egida"));
    expect(b.find((x) => x.file === "log/event-log.ts")!.params["log.medium"]).toBe("volatile-memory-of-processes");
  });

  it("chain order: core first/last positions, every file exists, hooks well-formed", () => {
    const b = selectForIR(loadSpec("fig4a-sby.egida"));
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
        // "either" hooks: a block is async or not (library.ts checks the signatures).
        if (fn && HOOKS[h].async !== "either") expect(fn.constructor.name === "AsyncFunction", `${f} ${h}`).toBe(HOOKS[h].async);
      }
    }
  });

  it.each([
    ["coordinated-checkpointing.egida", "coordinated", "ckpt-only/snapshot.ts"],
    ["communication-induced-checkpointing.egida", "communication-induced", "checkpoint/independent.ts"],
    ["independent-checkpointing.egida", "independent", "checkpoint/independent.ts"],
  ])("%s: checkpoint-only blocks (rounds, commit on lines, epoch piggyback)", (file, kind, timer) => {
    const b = selectForIR(loadSpec(file));
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
    expect(() => selectForIR(loadSpec(file))).toThrow(UnsupportedProtocolError);
    expect(() => selectForIR(loadSpec(file))).toThrow(re);
  });
});

/**
 * A pessimistic spec may name things a pessimistic protocol never uses
 * (docs/protocols.md, "What a pessimistic spec may add"). They are generated
 * as nothing, so the blocks and parameters are exactly those of the
 * crash-proven spec without them: no new runtime behaviour to prove.
 */
describe("pessimistic additions", () => {
  const registry = builtinRegistry();
  const fromText = (text: string) => {
    const { ir, diagnostics } = parseSpec(text, "add.egida", registry);
    expect(ir, diagnostics.map((d) => d.message).join("; ")).not.toBeNull();
    const ds = checkProtocol(ir!, registry, "add.egida");
    expect(ds.filter((d) => d.severity === "error").map((d) => d.code)).toEqual([]);
    return { ir: ir!, warnings: ds.map((d) => d.code) };
  };
  const shape = (ir: ProtocolIR) => selectForIR(ir).map((b) => [b.file, b.params]);
  const SPECS_DIR = join(import.meta.dirname, "../../specs");
  const spec = (f: string) => readFileSync(join(SPECS_DIR, f), "utf8");

  /** The three crash-proven pessimistic specs, by statement kind (grammar order: nd, oc, dg, ck, rec). */
  const BASES = {
    "fig4a-sby": { nd: "receive: determinant : {source, sesn, dest, desn}\nLog determinant synchronously on NFS disk", oc: "", dg: "Log message synchronously on volatile memory of self", ck: "Independent checkpoint asynchronously on NFS disk\nImplementation : incremental", rec: "" },
    "fig4b-f-replicated": { nd: "receive: determinant : {source, sesn, dest, desn}\nLog determinant synchronously on volatile memory of processes", oc: "", dg: "Log message synchronously on volatile memory of self", ck: "Independent checkpoint asynchronously on NFS disk\nImplementation : incremental", rec: "" },
    "receiver-based-pessimistic": { nd: "receive: determinant : {source, sesn, dest, desn}\nLog determinant, message synchronously on NFS disk", oc: "Independent output commit on write", dg: "", ck: "Independent checkpoint asynchronously on NFS disk\nImplementation : full", rec: "Protocol to retrieve determinants : centralized" },
  } as const;
  type Parts = { nd: string; oc: string; dg: string; ck: string; rec: string; pb?: string; other?: string };
  /** `send:` carries the piggyback and the sender log in one statement; `other` holds further dep-gen statements. */
  const render = (p: Parts) => {
    const send = p.pb || p.dg ? `send: ${[p.pb, p.dg].filter(Boolean).join("\n")}` : "";
    return [p.nd, p.oc, send, p.other ?? "", p.ck, p.rec].filter(Boolean).join("\n") + "\n";
  };

  it.each([
    ["orphan detection", { rec: "Protocol to detect orphans : broadcast logical clock" }, "W-orphan-detection-unneeded"],
    ["orphan detection (exchange vector clock)", { rec: "Protocol to detect orphans : exchange vector clock" }, "W-orphan-detection-unneeded"],
    ["On rollback: Log", { rec: "On rollback: Log determinant, message on NFS disk" }, "W-on-rollback-unused"],
    ["On rollback: checkpoint", { rec: "On rollback: Take independent checkpoint on NFS disk" }, "W-on-rollback-unused"],
    ["piggybacked determinants", { pb: "Piggyback determinants, dependency matrix" }, "W-piggyback-determinants-redundant"],
    ["co-ordinated output commit", { oc: "Co-ordinated output commit on write" }, "W-output-commit-unneeded"],
    ["send determinant statement", { nd: "send: determinant : {source, sesn, dest, desn}\nLog determinant synchronously on NFS disk" }, "W-deterministic-event-determinant"],
    ["write log", { other: "write: Log message synchronously on NFS disk" }, "W-not-dependency-generating"],
  ] as const)("%s: same blocks as the spec without it, with a warning", (_name, extra, warning) => {
    for (const [name, base] of Object.entries(BASES)) {
      const p: Parts = { ...base };
      const merged: Parts = {
        ...p,
        ...("rec" in extra ? { rec: [p.rec, extra.rec].filter(Boolean).join("\n") } : {}),
        ...("oc" in extra ? { oc: extra.oc } : {}),
        ...("nd" in extra ? { nd: `${p.nd}\n${extra.nd}` } : {}),
        ...("pb" in extra ? { pb: extra.pb } : {}),
        ...("other" in extra ? { other: extra.other } : {}),
      };
      const header = name === "receiver-based-pessimistic" ? "protocol x ( checkpoint every 5s )\n" : "";
      const a = fromText(header + render(merged));
      expect(a.warnings, name).toContain(warning);
      expect(classify(a.ir, registry).family).toBe("pessimistic");
      // The spec in specs/ is the crash-proven one; its parts must render to the same protocol.
      const b = fromText(spec(`${name}.egida`));
      expect(shape(fromText(header + render(p)).ir), name).toEqual(shape(b.ir));
      // A co-ordinated commit is generated as the independent one (receiver-based-pessimistic has it; no-op flush of a synchronous log).
      const ref = "oc" in extra ? fromText(header + render({ ...p, oc: "Independent output commit on write" })).ir : b.ir;
      expect(shape(a.ir), name).toEqual(shape(ref));
    }
  });

  it("receive: Log message synchronously on the determinant medium is receiver-based logging", () => {
    const a = fromText("protocol x ( checkpoint every 5s )\nreceive: determinant : {source, sesn, dest, desn}\nLog determinant synchronously on NFS disk\nIndependent output commit on write\nreceive: Log message synchronously on NFS disk\nIndependent checkpoint asynchronously on NFS disk\nImplementation : full\nProtocol to retrieve determinants : centralized");
    expect(shape(a.ir)).toEqual(shape(fromText(spec("receiver-based-pessimistic.egida")).ir));
  });

  it("distributed retrieval on replicated determinants is Fig 4b's fetch from the replicas", () => {
    const a = fromText(`${spec("fig4b-f-replicated.egida")}\nProtocol to retrieve determinants : distributed\n`);
    expect(shape(a.ir)).toEqual(shape(fromText(spec("fig4b-f-replicated.egida")).ir));
    expect(selectForIR(a.ir).find((b) => b.file === "collect/stable-log.ts")!.id).toBe("distributed");
  });

  it.each([
    ["co-ordinated", (t: string) => t.replace("Independent checkpoint", "Co-ordinated checkpoint"), "ckpt-only/snapshot.ts", true],
    ["communication-induced", (t: string) => t.replace("Independent checkpoint", "Communication-induced checkpoint").replace("send: Log", "send: Piggyback checkpoint counter\nLog"), "checkpoint/independent.ts", false],
  ] as const)("%s checkpoints: Fig 4a's blocks plus checkpoint/schedule.ts ahead of the event log", (_name, edit, timer, coordinated) => {
    const { ir } = fromText(edit(spec("fig4a-sby.egida")));
    const files = selectForIR(ir).map((b) => b.file);
    const base = selectForIR(fromText(spec("fig4a-sby.egida")).ir).map((b) => b.file);
    expect(files.filter((f) => f !== "checkpoint/schedule.ts" && f !== "ckpt-only/snapshot.ts")).toEqual(base.filter((f) => f !== "checkpoint/independent.ts" || timer === "checkpoint/independent.ts"));
    expect(files).toContain(timer);
    // Forced checkpoints come before the delivery's determinant is logged (they truncate the log).
    expect(files.indexOf("checkpoint/schedule.ts")).toBeLessThan(files.indexOf("log/event-log.ts"));
    expect(files.indexOf("checkpoint/schedule.ts")).toBeGreaterThan(files.indexOf("core/ssn.ts"));
    expect(selectForIR(ir).find((b) => b.file === "checkpoint/schedule.ts")!.params).toEqual({ "pk.coordinated": coordinated });
  });

  it.each([
    ["NFS disk", "synchronously"],
    ["local disk", "asynchronously"],
    ["volatile memory of processes", "synchronously"],
  ] as const)("a sender log on %s (%s): Fig 4a's blocks with log/send-log.ts instead of core/transmit", (medium, how) => {
    const { ir } = fromText(spec("fig4a-sby.egida").replace("Log message synchronously on volatile memory of self", `Log message ${how} on ${medium}`));
    const blocks = selectForIR(ir);
    const files = blocks.map((b) => b.file);
    const base = selectForIR(fromText(spec("fig4a-sby.egida")).ir).map((b) => b.file);
    expect(files.filter((f) => f !== "log/send-log.ts")).toEqual(base.filter((f) => f !== "core/transmit.ts"));
    // After the restore (the buffer it restores), before core/recovery (which announces it); last of the onSend chain.
    expect(files.indexOf("log/send-log.ts")).toBeGreaterThan(files.indexOf("checkpoint/restore.ts"));
    expect(files.indexOf("log/send-log.ts")).toBeLessThan(files.indexOf("core/recovery.ts"));
    expect(blocks.find((b) => b.file === "log/send-log.ts")!.params).toEqual({ "slog.medium": medium.toLowerCase().replaceAll(" ", "-"), "slog.sync": how === "synchronously" });
  });

  it.each([
    // Diskless checkpoints (runtime-core's replicated checkpoint store) in every family, each crash-proven on it (docs/protocols.md, "Diskless checkpoints").
    ["family-based-causal.egida", "Independent checkpoint asynchronously on NFS disk", "checkpoint/restore.ts"],
    ["optimistic-checkpointed.egida", "Independent checkpoint asynchronously on NFS disk", "checkpoint/restore.ts"],
    ["communication-induced-checkpointing.egida", "Communication-induced checkpoint synchronously on NFS disk", "ckpt-only/store.ts"],
    ["independent-checkpointing.egida", "Independent checkpoint asynchronously on NFS disk", "ckpt-only/store.ts"],
  ])("%s with its checkpoints on volatile memory of processes: accepted, the store opened by that medium", (file, line, store) => {
    const text = spec(file).replace(line, line.replace("NFS disk", "volatile memory of processes")).replace(/\( *checkpoint every/, "( f = 1, checkpoint every");
    expect(text).toContain("on volatile memory of processes");
    const ir = parseSpec(text, "add.egida", registry).ir!;
    expect(checkProtocol(ir, registry, "add.egida").filter((d) => d.severity === "error")).toEqual([]);
    expect(selectForIR(ir).find((b) => b.file === store)?.params["ckpt.medium"]).toBe("volatile-memory-of-processes");
  });
});

describe("causal additions", () => {
  const registry = builtinRegistry();
  const fromText = (text: string) => {
    const { ir, diagnostics } = parseSpec(text, "add.egida", registry);
    expect(ir, diagnostics.map((d) => d.message).join("; ")).not.toBeNull();
    const ds = checkProtocol(ir!, registry, "add.egida");
    expect(ds.filter((d) => d.severity === "error").map((d) => d.code)).toEqual([]);
    return ir!;
  };
  const shape = (ir: ProtocolIR) => selectForIR(ir).map((b) => [b.file, b.params]);
  const spec = (f: string) => readFileSync(join(import.meta.dirname, "../../specs", f), "utf8");
  const READ = "read: determinant : {source, sesn, dest, desn}\n";
  const withRead = (t: string) => (t.includes(READ) ? t : t.replace(/(receive: determinant : \{[^}]*\}\n(Log [^\n]*\n)?)/, `$1${READ}`));
  const withoutRead = (t: string) => t.replace(READ, "");

  it("`stability matrix` is the det-log's tracking parameter, for the piggyback and the gather answers", () => {
    const b = selectForIR(fromText(spec("fbl-stability-matrix.egida")));
    expect(b.find((x) => x.file === "causal/det-log.ts")!.params).toEqual({ "causal.tracking": "stability-matrix", "causal.readLog": false, "causal.readFlush": false });
    expect(b.find((x) => x.file === "causal/gather.ts")!.params).toEqual({ "causal.tracking": "stability-matrix", "causal.pbAt": 1 });
  });

  it.each(["family-based-causal.egida", "fbl-stability-vector.egida", "fbl-stability-matrix.egida", "fig3b-hybrid-causal.egida"])(
    "%s: a `read:` determinant statement builds the same protocol as none (reads are causal determinants either way)",
    (file) => {
      const a = fromText(withRead(spec(file)));
      expect(a.nonDeterministic.some((st) => st.event === "read")).toBe(true);
      expect(shape(a)).toEqual(shape(fromText(withoutRead(spec(file)))));
    },
  );

  it.each(["family-based-causal.egida", "fbl-stability-matrix.egida", "fig3b-hybrid-causal.egida"])(
    "%s: `read:` with a synchronous log on stable storage: log/read-log holds the values (causal/det-log leaves reads alone)",
    (file) => {
      const ir = fromText(withRead(spec(file)).replace(READ, `${READ}Log determinant synchronously on local disk\n`));
      const b = selectForIR(ir);
      expect(b.find((x) => x.file === "log/read-log.ts")!.params).toEqual({ "read.medium": "local-disk", "read.lostTail": true, "read.async": false, "read.wait": true });
      expect(b.find((x) => x.file === "causal/det-log.ts")!.params["causal.readLog"]).toBe(true);
      // Everything else as without the log.
      const rest = (ir2: ProtocolIR) => selectForIR(ir2).filter((x) => x.file !== "log/read-log.ts" && x.file !== "causal/det-log.ts").map((x) => [x.file, x.params]);
      expect(rest(ir)).toEqual(rest(fromText(withoutRead(spec(file)))));
    },
  );

  it("`read:` logged asynchronously on disk: log/read-log appends without waiting, causal/det-log piggybacks until flushed", () => {
    const text = withRead(spec("family-based-causal.egida")).replace(READ, `${READ}Log determinant asynchronously on NFS disk\n`);
    const b = selectForIR(fromText(text));
    expect(b.find((x) => x.file === "log/read-log.ts")!.params).toEqual({ "read.medium": "nfs-disk", "read.lostTail": true, "read.async": true, "read.wait": false });
    expect(b.find((x) => x.file === "causal/det-log.ts")!.params).toEqual({ "causal.tracking": "dependency-matrix", "causal.readLog": false, "causal.readFlush": true });
  });

  it("`read:` logged asynchronously in volatile memory is refused at its medium (a checker error with a hint)", () => {
    const text = withRead(spec("family-based-causal.egida")).replace(READ, `${READ}Log determinant asynchronously on volatile memory of processes\n`);
    const ir = parseSpec(text, "add.egida", registry).ir!;
    const line = text.split("\n").findIndex((l) => l.startsWith("Log determinant asynchronously")) + 1;
    expect(checkProtocol(ir, registry, "add.egida").filter((d) => d.severity === "error")).toEqual([
      expect.objectContaining({ code: "E-not-supported-yet", loc: expect.objectContaining({ line }) }),
    ]);
    expect(() => selectForIR(ir)).toThrow(/asynchronous read determinant logs on volatile-memory-of-processes/);
  });
});
