import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../src/diagnostics/types.js";
import { parseSpec } from "../src/frontend.js";
import type { ProtocolIR } from "../src/ir/types.js";
import { checkProtocol } from "../src/passes/check.js";
import { builtinRegistry } from "../src/registry/builtin-registry.js";

const registry = builtinRegistry();
const SPECS = join(import.meta.dirname, "../../specs");

function compile(text: string): ProtocolIR {
  const r = parseSpec(text, "t.egida", registry);
  if (!r.ir) throw new Error(`spec does not compile: ${r.diagnostics.map((d) => d.message).join("; ")}`);
  return r.ir;
}

/**
 * The rules of check-*.ts, one at a time: without the generator stage
 * (check-generate.ts, tested in check-generate.test.ts), whose refusals of
 * constructs not built yet would add to the diagnostics of these small specs.
 */
function check(spec: string | ProtocolIR): Diagnostic[] {
  return checkProtocol(typeof spec === "string" ? compile(spec) : spec, registry, "t.egida", { generator: false });
}

/** Everything `egida-gen check` reports. */
function checkAll(spec: string | ProtocolIR): Diagnostic[] {
  return checkProtocol(typeof spec === "string" ? compile(spec) : spec, registry, "t.egida");
}

function codes(spec: string | ProtocolIR): string[] {
  return check(spec).map((d) => d.code);
}

function withF(ir: ProtocolIR, f: number): ProtocolIR {
  return { ...ir, options: { ...ir.options, f } };
}

const RECEIVE = "receive: determinant : {source, sesn, dest, desn}";
const SENDER_LOG = "send: Log message synchronously on volatile memory of self";
const CKPT = "Independent checkpoint asynchronously on NFS disk\nImplementation : incremental";
const FIG4A = `${RECEIVE}\nLog determinant synchronously on NFS disk\n${SENDER_LOG}\n${CKPT}`;
const FIG4B = `${RECEIVE}\nLog determinant synchronously on volatile memory of processes\n${SENDER_LOG}\n${CKPT}`;
const FIG3B = `${RECEIVE}\nLog determinant, data asynchronously on NFS disk\nsend: Piggyback determinants\nLog message synchronously on volatile memory of self\nProtocol to retrieve determinants : centralized`;
/** Figure 3a, with its parts as parameters so tests can drop one. */
function fig3a({ commit = "Co-ordinated output commit on write", pb = "send: Piggyback vector clock", orphans = "Protocol to detect orphans : broadcast logical clock", rollback = "On rollback: Log determinant, message on NFS disk" } = {}): string {
  return [RECEIVE, "Log determinant, data asynchronously on NFS disk", commit, pb, orphans, rollback].filter(Boolean).join("\n");
}
const PURE_CAUSAL = (f: number, tracking = "") =>
  `protocol pc (f = ${f})\n${RECEIVE}\nsend: Piggyback determinants${tracking}\nLog message synchronously on volatile memory of self\n${CKPT}`;

describe("semantic checks: the specs shipped in specs/", () => {
  const files = readdirSync(SPECS).filter((f) => f.endsWith(".egida"));
  it("there are specs to check", () => expect(files.length).toBeGreaterThanOrEqual(4));
  for (const f of files) {
    it(`${f} has no errors`, () => {
      const ir = parseSpec(readFileSync(join(SPECS, f)), f, registry).ir;
      expect(ir).not.toBeNull();
      expect(checkProtocol(ir!, registry, f).filter((d) => d.severity === "error")).toEqual([]);
    });
  }
  it("the four paper examples have no diagnostics at all", () => {
    for (const s of [fig3a(), FIG3B, FIG4A, FIG4B]) expect(checkAll(s)).toEqual([]);
  });
});

describe("diagnostic shape", () => {
  it("carries severity, code, message, file, location and hint", () => {
    const [d] = check(`${RECEIVE}\nLog determinant synchronously on NFS disk\n${SENDER_LOG}\nIndependent checkpoint asynchronously on volatile memory of self\nImplementation : full`);
    expect(d).toMatchObject({ severity: "error", code: "E-checkpoint-volatile-storage", file: "t.egida" });
    expect(d!.message).toMatch(/volatile/);
    expect(d!.hint).toBeTruthy();
    expect(d!.loc).toMatchObject({ line: 4, column: 42 });
  });
  it("uses a JSON pointer when the IR has no source spans (IR read from JSON)", () => {
    const ir = JSON.parse(JSON.stringify(compile(FIG4A), (k, v: unknown) => (k === "loc" ? undefined : v))) as ProtocolIR;
    const bad: ProtocolIR = { ...ir, checkpoint: { ...ir.checkpoint!, storage: { id: "volatile-memory-of-self" } } };
    const [d] = check(bad);
    expect(d).toMatchObject({ code: "E-checkpoint-volatile-storage", path: "/checkpoint/storage" });
    expect(d!.loc).toBeUndefined();
  });
  it("reports in source order", () => {
    const ds = check(`read: determinant : {source, sesn, dest, desn}\n${RECEIVE}\nsend: Piggyback checkpoint counter`);
    expect(ds.length).toBeGreaterThanOrEqual(3);
    const offsets = ds.map((d) => d.loc?.offset ?? Infinity);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  });
});

describe("storage checks", () => {
  it("E-checkpoint-volatile-storage: a checkpoint in volatile memory", () => {
    expect(codes(FIG4A.replace("asynchronously on NFS disk", "asynchronously on volatile memory of self"))).toContain("E-checkpoint-volatile-storage");
    expect(codes(FIG4A)).not.toContain("E-checkpoint-volatile-storage");
    expect(codes(FIG4A.replace("asynchronously on NFS disk", "asynchronously on local disk"))).toEqual([]);
  });
  it("E-rollback-volatile-storage: On rollback saves to volatile memory", () => {
    expect(codes(fig3a({ rollback: "On rollback: Log determinant, message on volatile memory of self" }))).toContain("E-rollback-volatile-storage");
    expect(codes(fig3a({ rollback: "On rollback: Take independent checkpoint on NFS disk" }))).toEqual([]);
  });
  it("E-determinant-log-volatile: a determinant's only copy in the logger's memory", () => {
    const spec = `${RECEIVE}\nLog determinant synchronously on volatile memory of self\n${SENDER_LOG}\n${CKPT}`;
    expect(codes(spec)).toContain("E-determinant-log-volatile");
    // Causal piggybacking already puts copies elsewhere.
    const causal = `${RECEIVE}\nLog determinant synchronously on volatile memory of self\nsend: Piggyback determinants\nLog message synchronously on volatile memory of self`;
    expect(codes(causal)).not.toContain("E-determinant-log-volatile");
  });
  it("E-replication-needs-f: volatile memory of processes with f = 0", () => {
    expect(codes(withF(compile(FIG4B), 0))).toEqual(["E-replication-needs-f"]);
    expect(codes(compile(FIG4B))).toEqual([]);
  });
  it("f larger than the number of processes is unknown at compile time: no diagnostic", () => {
    expect(codes(withF(compile(FIG4B), 255))).toEqual([]);
  });
  it("E-causal-needs-f: causal logging with f = 0", () => {
    expect(codes(withF(compile(PURE_CAUSAL(1)), 0))).toContain("E-causal-needs-f");
    expect(codes(PURE_CAUSAL(1))).toEqual([]);
  });
});

describe("recoverability checks", () => {
  it("E-determinant-not-logged: a receive determinant neither logged nor piggybacked", () => {
    const ds = check(`${RECEIVE}\n${SENDER_LOG}\n${CKPT}`);
    expect(ds.map((d) => d.code)).toContain("E-determinant-not-logged");
    expect(ds[0]!.loc?.line).toBe(1);
    expect(codes(PURE_CAUSAL(1))).not.toContain("E-determinant-not-logged");
  });
  it("E-determinant-not-logged: a read determinant neither logged nor piggybacked", () => {
    const spec = `read: determinant : {source, sesn, dest, desn}\n${FIG4A}`;
    expect(codes(spec)).toContain("E-determinant-not-logged");
    const logged = `read: determinant : {source, sesn, dest, desn}\nLog determinant synchronously on NFS disk\n${FIG4A}`;
    expect(codes(logged)).toEqual([]);
  });
  it("E-determinant-not-logged: logging only the message is not logging the determinant", () => {
    expect(codes(`${RECEIVE}\nLog message synchronously on NFS disk\n${CKPT}`)).toContain("E-determinant-not-logged");
  });
  it("E-determinant-incomplete: a receive determinant that cannot name its message", () => {
    expect(codes(FIG4A.replace("{source, sesn, dest, desn}", "{source, dest, desn}"))).toContain("E-determinant-incomplete");
    expect(codes(FIG4A.replace("{source, sesn, dest, desn}", "{source, sesn, desn}"))).toEqual([]);
  });
  it("E-no-message-replay: determinants logged but no message log anywhere", () => {
    const ds = check(`${RECEIVE}\nLog determinant synchronously on NFS disk\n${CKPT}`);
    expect(ds.map((d) => d.code)).toEqual(["E-no-message-replay"]);
    expect(ds[0]!.message).toMatch(/nobody can replay/);
  });
  it("E-no-message-replay: causal logging without the senders' message log", () => {
    expect(codes(`${RECEIVE}\nsend: Piggyback determinants\n${CKPT}`)).toContain("E-no-message-replay");
  });
  it("E-no-message-replay: messages logged only in the receiver's volatile memory", () => {
    const ds = check(`${RECEIVE}\nLog determinant synchronously on NFS disk\nreceive: Log message synchronously on volatile memory of self\n${CKPT}`);
    expect(ds.map((d) => d.code)).toEqual(["E-no-message-replay"]);
    expect(ds[0]!.message).toMatch(/receiver's volatile storage/);
    expect(ds[0]!.loc?.line).toBe(3);
  });
  it("message contents at the receiver on stable storage, or at the sender on any storage, are enough", () => {
    expect(codes(`${RECEIVE}\nLog determinant, message synchronously on NFS disk\n${CKPT}`)).toEqual([]);
    expect(codes(`${RECEIVE}\nLog determinant synchronously on NFS disk\nreceive: Log message synchronously on NFS disk\n${CKPT}`)).toEqual([]);
    expect(codes(`${RECEIVE}\nLog determinant synchronously on NFS disk\nsend: Log message synchronously on local disk\n${CKPT}`)).toEqual([]);
  });
  it("E-message-log-behind-determinant: determinant stable before its message", () => {
    const spec = `${RECEIVE}\nLog determinant synchronously on NFS disk\nreceive: Log message asynchronously on NFS disk\n${CKPT}`;
    expect(codes(spec)).toEqual(["E-message-log-behind-determinant"]);
  });
  it("E-no-fault-tolerance: neither logging nor checkpoints", () => {
    expect(codes("Independent output commit on write")).toContain("E-no-fault-tolerance");
    expect(codes("protocol nothing")).toEqual(["E-no-fault-tolerance"]);
    expect(codes("Co-ordinated checkpoint synchronously on NFS disk\nImplementation : full")).toEqual([]);
  });
});

describe("family checks", () => {
  it("W-orphan-detection-unneeded: pessimistic and causal protocols create no orphans", () => {
    const pess = check(`${FIG4A}\nProtocol to detect orphans : broadcast logical clock`);
    expect(pess.map((d) => d.code)).toEqual(["W-orphan-detection-unneeded"]);
    expect(pess[0]!.severity).toBe("warning");
    expect(codes(`${FIG3B}\nProtocol to detect orphans : exchange vector clock`)).toEqual(["W-orphan-detection-unneeded"]);
    expect(codes(fig3a())).not.toContain("W-orphan-detection-unneeded");
  });
  it("W-on-rollback-unused: nobody but a crashed process rolls back in a pessimistic protocol", () => {
    expect(codes(`${FIG4A}\nOn rollback: Log determinant, message on NFS disk`)).toEqual(["W-on-rollback-unused"]);
  });
  it("W-piggyback-determinants-redundant: piggybacking determinants already stable", () => {
    const spec = `${RECEIVE}\nLog determinant synchronously on NFS disk\nsend: Piggyback determinants\nLog message synchronously on volatile memory of self\n${CKPT}`;
    expect(codes(spec)).toEqual(["W-piggyback-determinants-redundant"]);
  });
  it("E-dependency-tracking-unneeded: a clock in a pessimistic protocol would be carried for nothing", () => {
    const spec = FIG4A.replace(SENDER_LOG, "send: Piggyback vector clock\nLog message synchronously on volatile memory of self");
    const ds = check(spec);
    expect(ds.map((d) => d.code)).toEqual(["E-dependency-tracking-unneeded"]);
    expect(ds[0]!.severity).toBe("error");
    expect(ds[0]!.loc).toMatchObject({ line: 3, column: 17 });
    expect(ds[0]!.hint).toMatch(/remove it/);
    expect(codes(FIG4A.replace(SENDER_LOG, "send: Piggyback logical clock\nLog message synchronously on volatile memory of self"))).toEqual(["E-dependency-tracking-unneeded"]);
  });
  it("E-checkpoint-counter-unread: a checkpoint counter that pessimistic logging never reads", () => {
    const spec = FIG4A.replace(SENDER_LOG, "send: Piggyback checkpoint counter\nLog message synchronously on volatile memory of self");
    const ds = check(spec);
    expect(ds.map((d) => d.code)).toEqual(["E-checkpoint-counter-unread"]);
    expect(ds[0]!.loc).toMatchObject({ line: 3, column: 17 });
    // Without logging, independent checkpointing reads it to compute the recovery line.
    expect(codes("send: Piggyback checkpoint counter\nIndependent checkpoint asynchronously on NFS disk\nImplementation : full")).not.toContain("E-checkpoint-counter-unread");
  });
  it("E-receive-determinant-missing: logging only read determinants leaves the delivery order unrecorded", () => {
    const ds = check(`read: determinant : {source, sesn, dest, desn}\nLog determinant synchronously on NFS disk\n${SENDER_LOG}\n${CKPT}`);
    expect(ds.map((d) => d.code)).toEqual(["E-receive-determinant-missing"]);
    expect(ds[0]!.loc).toMatchObject({ line: 1, column: 1 });
    expect(codes(`read: determinant : {source, sesn, dest, desn}\nLog determinant synchronously on NFS disk\n${FIG4A}`)).toEqual([]);
  });
  it("W-deterministic-event-determinant: a send determinant in a sender log", () => {
    const ds = check(FIG4A.replace(SENDER_LOG, "send: Log determinant, message synchronously on volatile memory of self"));
    expect(ds.map((d) => d.code)).toEqual(["W-deterministic-event-determinant"]);
    expect(ds[0]!.loc).toMatchObject({ line: 3, column: 11 });
  });
  it("W-output-commit-unneeded: co-ordinated output commit in a pessimistic protocol", () => {
    const spec = FIG4A.replace(SENDER_LOG, `Co-ordinated output commit on write\n${SENDER_LOG}`);
    expect(codes(spec)).toEqual(["W-output-commit-unneeded"]);
    expect(codes(FIG4A.replace(SENDER_LOG, `Independent output commit on write\n${SENDER_LOG}`))).toEqual([]);
  });
  it("E-orphans-undetected: optimistic logging with nothing to find orphans", () => {
    expect(codes(fig3a({ orphans: "", rollback: "" }))).toEqual(["E-orphans-undetected"]);
  });
  it("E-orphan-detection-without-tracking: orphan detection with no clock on messages", () => {
    expect(codes(fig3a({ pb: "" }))).toEqual(["E-orphan-detection-without-tracking"]);
    expect(codes(fig3a({ pb: "send: Piggyback logical clock" }))).toEqual([]);
  });
  it("W-optimistic-output-uncommitted: optimistic outputs without output commit", () => {
    const ds = check(fig3a({ commit: "" }));
    expect(ds.map((d) => d.code)).toEqual(["W-optimistic-output-uncommitted"]);
    expect(ds[0]!.message).toMatch(/retracted/);
  });
  it("W-optimistic-output-independent: an independent commit does not protect optimistic outputs", () => {
    expect(codes(fig3a({ commit: "Independent output commit on write" }))).toEqual(["W-optimistic-output-independent"]);
  });
  it("causal logging with f ≥ 2 and no stability tracking is fine", () => {
    expect(codes(PURE_CAUSAL(2))).toEqual([]);
    expect(codes(PURE_CAUSAL(3, ", stability vector"))).toEqual([]);
  });
  it("W-retrieve-determinants-unused: retrieval with no determinants", () => {
    expect(codes("Co-ordinated checkpoint synchronously on NFS disk\nImplementation : full\nProtocol to retrieve determinants : centralized")).toEqual(["W-retrieve-determinants-unused"]);
  });
  it("W-centralized-without-stable-log: centralized retrieval of determinants never logged", () => {
    expect(codes(`${PURE_CAUSAL(1)}\nProtocol to retrieve determinants : centralized`)).toEqual(["W-centralized-without-stable-log"]);
    expect(codes(`${PURE_CAUSAL(1)}\nProtocol to retrieve determinants : distributed`)).toEqual([]);
  });
  it("E-distributed-without-copies: distributed retrieval when survivors hold none cannot recover", () => {
    const ds = check(`${FIG4A}\nProtocol to retrieve determinants : distributed`);
    expect(ds.map((d) => d.code)).toEqual(["E-distributed-without-copies"]);
    expect(ds[0]!.loc).toMatchObject({ line: 6, column: 37 });
    expect(codes(`${FIG4B}\nProtocol to retrieve determinants : distributed`)).toEqual([]);
  });
  it("W-domino-effect: independent checkpoints without logging", () => {
    expect(codes("send: Piggyback checkpoint counter\nIndependent checkpoint asynchronously on NFS disk\nImplementation : full")).toEqual(["W-domino-effect"]);
    expect(codes(FIG4A)).toEqual([]);
  });
});

describe("event and statement coherence", () => {
  it("W-deterministic-event-determinant: a determinant for send", () => {
    expect(codes(`send: determinant : {source, sesn, dest, desn}\nLog determinant synchronously on NFS disk\n${FIG4A}`)).toContain("W-deterministic-event-determinant");
  });
  it("E-read-has-no-message: Log message on a read", () => {
    const ds = check(`read: determinant : {source, sesn, dest, desn}\nLog determinant, message synchronously on NFS disk\n${FIG4A}`);
    expect(ds.map((d) => d.code)).toEqual(["E-read-has-no-message"]);
    expect(ds[0]!.loc).toMatchObject({ line: 2, column: 18 });
  });
  it("E-piggyback-not-on-send: only messages carry piggybacks", () => {
    expect(codes(fig3a({ pb: "receive: Piggyback vector clock" }))).toContain("E-piggyback-not-on-send");
  });
  it("W-not-dependency-generating: logging on write", () => {
    expect(codes(FIG4A.replace(SENDER_LOG, `${SENDER_LOG}\nwrite: Log message synchronously on NFS disk`))).toEqual(["W-not-dependency-generating"]);
  });
  it("E-piggyback-without-determinant: Piggyback determinants with no non-deterministic event", () => {
    expect(codes(`send: Piggyback determinants\nLog message synchronously on volatile memory of self\n${CKPT}`)).toContain("E-piggyback-without-determinant");
  });
  it("E-tracking-without-determinants: a tracking modifier on a clock (IR from JSON)", () => {
    const ir = compile(fig3a());
    const dg = ir.dependencyGenerating[0]!;
    const bad: ProtocolIR = { ...ir, dependencyGenerating: [{ ...dg, piggyback: [{ id: "vector-clock", tracking: { id: "stability-matrix" } }] }] };
    expect(codes(bad)).toContain("E-tracking-without-determinants");
  });
  it("W-output-commit-on-input: committing output on receive", () => {
    expect(codes(FIG4A.replace(SENDER_LOG, `Independent output commit on receive\n${SENDER_LOG}`))).toEqual(["W-output-commit-on-input"]);
  });
  it("E-output-commit-conflict: two protocols for one event (IR from JSON)", () => {
    const ir = compile(fig3a());
    const bad: ProtocolIR = { ...ir, outputCommit: [...ir.outputCommit, { proto: { id: "independent" }, events: ["write"] }] };
    expect(codes(bad)).toContain("E-output-commit-conflict");
  });
});

describe("checkpoint checks", () => {
  it("E-checkpoint-counter-without-checkpoint", () => {
    expect(codes("send: Piggyback checkpoint counter")).toEqual(["E-no-fault-tolerance", "E-checkpoint-counter-without-checkpoint"]);
  });
  it("W-checkpoint-counter-unused: co-ordinated checkpoints never read the counter", () => {
    expect(codes("send: Piggyback checkpoint counter\nCo-ordinated checkpoint synchronously on NFS disk\nImplementation : full")).toEqual(["W-checkpoint-counter-unused"]);
  });
  it("E-communication-induced-without-counter", () => {
    expect(codes("Communication-induced checkpoint synchronously on NFS disk\nImplementation : full")).toEqual(["E-communication-induced-without-counter"]);
    expect(codes("send: Piggyback checkpoint counter\nCommunication-induced checkpoint synchronously on NFS disk\nImplementation : full")).toEqual([]);
  });
  it("E-independent-checkpoint-untracked: independent checkpoints without intervals or logging", () => {
    expect(codes("Independent checkpoint asynchronously on NFS disk\nImplementation : full")).toEqual(["E-independent-checkpoint-untracked", "W-domino-effect"]);
  });
});

describe("plugin storages are judged by their traits", () => {
  it("a plugin volatile storage is rejected for checkpoints, a plugin stable one accepted", async () => {
    const { createRegistry } = await import("../src/registry/registry.js");
    const { BUILTIN_BLOCKS } = await import("../src/registry/builtin.js");
    const plugin = (id: string, stable: boolean) => ({
      variable: "storage" as const,
      id,
      spellings: [id.replace(/-/g, " ")],
      module: stable ? ("StableStorage" as const) : ("VolatileStorage" as const),
      description: id,
      storage: { stable, volatileAllowed: !stable },
      binding: { module: "x", export: "y" },
      origin: "test-plugin",
    });
    const reg = createRegistry([...BUILTIN_BLOCKS, plugin("ram-cache", false), plugin("s3-bucket", true)]).registry;
    const ir = (where: string) => parseSpec(FIG4A.replace("asynchronously on NFS disk", `asynchronously on ${where}`), "p.egida", reg).ir!;
    expect(checkProtocol(ir("ram cache"), reg, "p.egida").map((d) => d.code)).toEqual(["E-checkpoint-volatile-storage"]);
    // Accepted: a stable plugin medium is judged (and generated) like a built-in one.
    expect(checkProtocol(ir("s3 bucket"), reg, "p.egida")).toEqual([]);
  });
});
