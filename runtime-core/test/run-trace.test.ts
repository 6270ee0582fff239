/**
 * `egida-run --trace FILE` end to end, in the simulation and over TCP with
 * real processes: every line validates against runtime-core/trace-schema.json
 * (ajv), every delivery names a send of the right ranks, and a crash run
 * shows the kill, the restart, the recovery's phases and the replayed
 * deliveries of the killed incarnation's messages. Then `egida-view` on those
 * traces: the HTML page is self-contained, the Perfetto export pairs messages
 * as flows, and the ShiViz log's vector clocks respect every send/delivery.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { beforeAll, describe, expect, it } from "vitest";
import type { TraceHeader, TraceRecord } from "../src/trace/records.js";
import { parseTrace } from "../src/trace/read.js";
import { buildModel } from "../src/view/model.js";
import { toShiViz, SHIVIZ_REGEX } from "../src/view/shiviz.js";
import { runSimJob } from "../src/launcher/sim-job.js";
import { freePorts } from "../src/launcher/tcp-job.js";
import { noneProtocol } from "../src/protocols/none.js";
import type { ProtocolFactory, ProtocolHost } from "../src/spi.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RUN = join(ROOT, "runtime-core/bin/egida-run.js");
const VIEW = join(ROOT, "runtime-core/bin/egida-view.js");
const tmp = mkdtempSync(join(tmpdir(), "egida-run-trace-"));
const schema = JSON.parse(readFileSync(join(ROOT, "runtime-core/trace-schema.json"), "utf8")) as object;
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

function egida(bin: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run a job with --trace; return the parsed, schema-checked trace. */
function tracedRun(name: string, args: readonly string[]): { header: TraceHeader; records: TraceRecord[]; file: string } {
  const file = join(tmp, `${name}.jsonl`);
  const r = egida(RUN, ["-q", "--trace", file, ...args]);
  expect(r.stderr).not.toMatch(/error/);
  expect(r.status).toBe(0);
  const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
  const bad: string[] = [];
  for (const [i, l] of lines.entries()) {
    if (!validate(JSON.parse(l))) bad.push(`line ${i + 1}: ${l}\n  ${JSON.stringify(validate.errors?.slice(0, 3))}`);
  }
  expect(bad.slice(0, 3)).toEqual([]);
  const t = parseTrace(readFileSync(file, "utf8"), file);
  return { header: t.header, records: [...t.records], file };
}

/** Every delivery's id names a send from its sender to its receiver. */
function checkLinks(records: readonly TraceRecord[]): { replays: number } {
  const sends = new Map<string, Extract<TraceRecord, { ev: "send" }>>();
  let replays = 0;
  for (const r of records) {
    if (r.ev === "send") {
      expect(r.id).toBe(`${r.rank}:${r.inc}:${r.id.split(":")[2]}`);
      expect(sends.has(r.id)).toBe(false);
      sends.set(r.id, r);
    }
  }
  for (const r of records) {
    if (r.ev !== "deliver") continue;
    expect(r.id).not.toBeNull();
    const s = sends.get(r.id!);
    expect(s, `delivery ${r.id} has a send`).toBeDefined();
    expect(s!.rank).toBe(r.from);
    expect(s!.to).toBe(r.rank);
    if (r.replay) replays++;
  }
  return { replays };
}

const app = (n: string): string => join(ROOT, "examples/apps", `${n}.mjs`);
const proto = (n: string): string => join(ROOT, "generated", n);

describe("egida-run --trace FILE", () => {
  let sim: ReturnType<typeof tracedRun>;
  let tcp: ReturnType<typeof tracedRun>;
  beforeAll(() => {
    sim = tracedRun("sim", ["-n", "3", "--sim", "--protocol", proto("receiver-based-pessimistic"), "--kill", "1@15msgs", app("token-ring"), "--", "30"]);
    tcp = tracedRun("tcp", ["-n", "3", "--protocol", proto("family-based-causal"), "--kill", "1@15msgs", app("token-ring"), "--", "30"]);
  });

  it("writes a header with the schema version, size, protocol and mode", () => {
    expect(sim.header).toMatchObject({ schema: "egida-trace", version: 1, size: 3, protocol: "receiver-based-pessimistic", mode: "sim", seed: 1, kills: ["1@15msgs"] });
    expect(tcp.header).toMatchObject({ schema: "egida-trace", version: 1, size: 3, protocol: "family-based-causal", mode: "tcp" });
  });

  it("stamps virtual time in the simulation, in order, and wall clock everywhere", () => {
    let last = -1;
    for (const r of sim.records) {
      expect(typeof r.vt).toBe("number");
      expect(r.vt!).toBeGreaterThanOrEqual(last);
      last = r.vt!;
    }
    for (const r of tcp.records) {
      expect(r.vt).toBeUndefined();
      expect(r.ts).toBeGreaterThanOrEqual(tcp.header.startedAt);
    }
  });

  for (const mode of ["sim", "tcp"] as const) {
    it(`${mode}: links every delivery to its send; replayed deliveries name the dead incarnation's senders' messages`, () => {
      const t = mode === "sim" ? sim : tcp;
      const { replays } = checkLinks(t.records);
      // token-ring: rank 1 had delivered 15 messages when it was killed; its recovery replays them.
      expect(replays).toBe(15);
      expect(t.records.filter((r) => r.ev === "deliver" && r.rank === 1 && r.inc === 0)).toHaveLength(15);
    });

    it(`${mode}: records the kill, the restart and the recovery phases of the killed rank, in order`, () => {
      const t = mode === "sim" ? sim : tcp;
      const seq = t.records.filter((r) => r.rank === 1 && ["kill", "restart", "recovery", "live"].includes(r.ev)).map((r) => `${r.inc}:${r.ev}${r.ev === "recovery" ? `/${r.phase}` : ""}`);
      const want = ["0:live", "0:kill", "1:restart", "1:recovery/begin", "1:recovery/replayed", "1:recovery/end", "1:live"];
      expect(seq.filter((s) => !s.includes("/step"))).toEqual(want);
      const replayed = t.records.find((r) => r.ev === "recovery" && r.phase === "replayed");
      expect(replayed).toMatchObject({ rank: 1, inc: 1, replayed: 15 });
      // The others saw the restart.
      expect(t.records.filter((r) => r.ev === "peer-restart" && r.peer === 1 && r.peerInc === 1).map((r) => r.rank).sort()).toEqual([0, 2]);
      // Outputs: written then released, one per rank; the job's end closes the trace.
      for (const k of [0, 1, 2]) {
        const w = t.records.findIndex((r) => r.rank === k && r.ev === "output-write");
        const rel = t.records.findIndex((r) => r.rank === k && r.ev === "output-release");
        expect(w).toBeGreaterThanOrEqual(0);
        expect(rel).toBeGreaterThan(w);
      }
      expect(t.records.at(-1)).toMatchObject({ ev: "end", rank: -1, ok: true, exitCode: 0 });
    });
  }

  it("tcp: the launcher merged the ranks' part files (none left behind)", () => {
    expect(existsSync(`${tcp.file}.parts`)).toBe(false);
  });

  it("records log flushes (pessimistic logging) and checkpoints with their commit", () => {
    expect(sim.records.some((r) => r.ev === "log-flush" && r.lsn >= 0)).toBe(true);
    const c = tracedRun("ckpt", ["-n", "3", "--sim", "--protocol", proto("coordinated-checkpointing"), "--kill", "1@40msgs", app("all-to-all"), "--", "30"]);
    const begins = c.records.filter((r) => r.ev === "checkpoint-begin");
    const commits = c.records.filter((r) => r.ev === "checkpoint-commit");
    expect(begins.length).toBeGreaterThan(0);
    for (const b of commits) expect(begins.some((x) => x.rank === b.rank && x.ev === "checkpoint-begin" && x.index === b.index)).toBe(true);
    // A coordinated protocol rolls the survivors back: with the protocol's reason, and seen by the host.
    const rb = c.records.filter((r) => r.ev === "rollback");
    expect(rb.some((r) => r.ev === "rollback" && r.by === "protocol" && r.reason.length > 0)).toBe(true);
    expect(rb.some((r) => r.ev === "rollback" && r.by === "host" && r.rank !== 1)).toBe(true);
    expect(buildModel({ header: c.header, records: c.records }).spans.some((s) => s[0] === "rolled-back")).toBe(true);
  });

  it("records an unrecoverable failure and closes the trace with the job's exit code", () => {
    // Two simultaneous kills where the diskless protocol's replicas tolerate one.
    const file = join(tmp, "unrec.jsonl");
    const r = egida(RUN, ["-q", "--sim", "-n", "3", "--trace", file, "--protocol", proto("pessimistic-diskless"), "--kill", "1@30ms", "--kill", "2@30ms", app("all-to-all"), "--", "30"]);
    expect(r.status).toBe(3);
    const t = parseTrace(readFileSync(file, "utf8"));
    for (const l of readFileSync(file, "utf8").split("\n").filter(Boolean)) expect(validate(JSON.parse(l))).toBe(true);
    expect(t.records.filter((x) => x.ev === "kill").map((x) => x.rank)).toEqual([1, 2]);
    expect(t.records.find((x) => x.ev === "unrecoverable")).toMatchObject({ rank: 1, inc: 1, reason: expect.stringMatching(/more than f concurrent failures/) });
    expect(t.records.at(-2)).toMatchObject({ ev: "unrecoverable", rank: -1 }); // the launcher's verdict
    expect(t.records.at(-1)).toMatchObject({ ev: "end", ok: false, exitCode: 3 });
  });

  it("refuses a directory as --trace, in one line", () => {
    const r = egida(RUN, ["-n", "2", "--sim", "--trace", tmp, "--protocol", "none", app("token-ring")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--trace .*: is a directory/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("egida-view writes a self-contained HTML page with the trace in it", () => {
    const out = join(tmp, "tcp.html");
    const r = egida(VIEW, [tcp.file, "--out", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(out);
    const html = readFileSync(out, "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    // No network: nothing is loaded from anywhere, and the page's policy forbids it.
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).toContain("default-src 'none'");
    const data = /<script type="application\/json" id="trace-data">(.*?)<\/script>/s.exec(html);
    expect(data).not.toBeNull();
    const parsed = JSON.parse(data![1]!) as { records: unknown[]; messages: unknown[] };
    expect(parsed.records).toHaveLength(tcp.records.length);
    expect(parsed.messages.length).toBeGreaterThanOrEqual(105);
  });

  it("egida-view --format perfetto: Chrome Trace Event JSON, a flow per delivered message", () => {
    const out = join(tmp, "tcp.perfetto.json");
    expect(egida(VIEW, [tcp.file, "--format", "perfetto", "--out", out]).status).toBe(0);
    const j = JSON.parse(readFileSync(out, "utf8")) as { traceEvents: { ph: string; name: string; pid: number; tid: number; ts?: number; id?: number }[] };
    const starts = j.traceEvents.filter((e) => e.ph === "s");
    const ends = j.traceEvents.filter((e) => e.ph === "f");
    expect(starts).toHaveLength(105);
    expect(ends).toHaveLength(105);
    expect(j.traceEvents.filter((e) => e.ph === "M" && e.name === "process_name")).toHaveLength(3);
    expect(j.traceEvents.some((e) => e.ph === "X" && e.name === "down" && e.pid === 1)).toBe(true);
    for (const e of j.traceEvents) if (e.ph !== "M") expect(Number.isFinite(e.ts)).toBe(true);
  });

  it("egida-view --format shiviz: the regex, then events whose vector clocks respect send → delivery", () => {
    const out = join(tmp, "tcp.shiviz.log");
    expect(egida(VIEW, [tcp.file, "--format", "shiviz", "--out", out]).status).toBe(0);
    const text = readFileSync(out, "utf8");
    expect(text).toBe(toShiViz({ header: tcp.header, records: tcp.records }));
    const lines = text.split("\n");
    expect(lines[0]).toBe(SHIVIZ_REGEX);
    expect(lines[1]).toBe("");
    const re = new RegExp(SHIVIZ_REGEX, "g");
    const events = [...lines.slice(2).join("\n").matchAll(re)].map((m) => ({ event: m.groups!["event"]!, host: m.groups!["host"]!, clock: JSON.parse(m.groups!["clock"]!) as Record<string, number> }));
    expect(events.length).toBeGreaterThan(210);
    const own = new Map<string, number>();
    const sendClock = new Map<string, Record<string, number>>();
    for (const e of events) {
      // A host's own entry grows by one per event.
      expect(e.clock[e.host]).toBe((own.get(e.host) ?? 0) + 1);
      own.set(e.host, e.clock[e.host]!);
      const id = /id=(\S+)/.exec(e.event)?.[1];
      if (e.event.startsWith("send ")) sendClock.set(id!, e.clock);
      if (e.event.startsWith("deliver ")) {
        const sc = sendClock.get(id!);
        expect(sc, `send ${id} precedes its delivery`).toBeDefined();
        for (const [h, v] of Object.entries(sc!)) expect(e.clock[h]!).toBeGreaterThanOrEqual(v);
      }
    }
  });

  it("egida-view: --help, bad input and a wrong format are one line, exit 2", () => {
    expect(egida(VIEW, ["--help"]).stdout).toMatch(/usage: egida-view TRACE/);
    const missing = egida(VIEW, [join(tmp, "nope.jsonl")]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^egida-view: .*nope\.jsonl: cannot read the trace \(ENOENT\)\n$/);
    mkdirSync(join(tmp, "bad"), { recursive: true });
    const notTrace = join(tmp, "bad", "x.jsonl");
    writeFileSync(notTrace, '{"hello":1}\n');
    const r = egida(VIEW, [notTrace]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/x\.jsonl:1: the first line is not an egida trace header/);
    const f = egida(VIEW, [tcp.file, "--format", "svg"]);
    expect(f.status).toBe(2);
    expect(f.stderr).toMatch(/--format svg: expected one of html, perfetto, shiviz/);
    for (const x of [missing, r, f]) expect(x.stderr).not.toMatch(/\n\s+at /);
  });

  it("without a trace the host builds no events and payloads reach the protocol as the app's v8 bytes; with one they carry the id tag", async () => {
    const firstBytes = async (traced: boolean): Promise<{ bytes: Set<number>; records: number }> => {
      const bytes = new Set<number>();
      const spy: ProtocolFactory = {
        protocolName: "none",
        defaultF: 0,
        create(host: ProtocolHost) {
          const p = noneProtocol.create(host);
          const send = p.send.bind(p);
          p.send = (to, payload) => {
            bytes.add(payload[0]!);
            send(to, payload);
          };
          return p;
        },
      };
      const { default: tokenRing } = (await import(app("token-ring"))) as { default: Parameters<typeof runSimJob>[0]["app"] };
      let records = 0;
      const res = await runSimJob({ size: 3, app: tokenRing, args: ["5"], protocol: spy, ...(traced ? { runTrace: () => void records++ } : {}) });
      expect(res.failure).toBeNull();
      return { bytes, records };
    };
    const plain = await firstBytes(false);
    expect([...plain.bytes]).toEqual([0xff]); // v8's version tag: untouched
    expect(plain.records).toBe(0);
    const traced = await firstBytes(true);
    expect([...traced.bytes]).toEqual([0xee]);
    expect(traced.records).toBeGreaterThan(30);
  });

  it("single-rank mode: each rank's file has its header; egida-view draws several files as one run", async () => {
    const ports = await freePorts(2, "127.0.0.1");
    const peers = ports.map((p) => `127.0.0.1:${p}`).join(",");
    const dir = join(tmp, "single");
    mkdirSync(dir, { recursive: true });
    const secret = join(dir, "secret");
    writeFileSync(secret, "single-rank-trace-test-secret");
    const codes = await Promise.all(
      [0, 1].map(
        (rank) =>
          new Promise<number | null>((resolve) => {
            const args = ["--rank", String(rank), "--peers", peers, "--secret-file", secret, "--protocol", "none", "-q", "--storage-dir", join(dir, `s${rank}`)];
            const c = spawn(process.execPath, [RUN, ...args, "--trace", join(dir, `r${rank}.jsonl`), app("token-ring"), "--", "5"], { stdio: "ignore" });
            c.on("close", resolve);
          }),
      ),
    );
    expect(codes).toEqual([0, 0]);
    for (const rank of [0, 1]) {
      const lines = readFileSync(join(dir, `r${rank}.jsonl`), "utf8").split("\n").filter(Boolean);
      for (const l of lines) expect(validate(JSON.parse(l)), l).toBe(true);
      const t = parseTrace(lines.join("\n"));
      expect(t.header).toMatchObject({ mode: "single", rank, size: 2 });
      expect(t.records.every((r) => r.rank === rank)).toBe(true);
    }
    const out = join(dir, "both.shiviz.log");
    const r = egida(VIEW, [join(dir, "r0.jsonl"), join(dir, "r1.jsonl"), "--format", "shiviz", "--out", out]);
    expect(r.status, r.stderr).toBe(0);
    // Ten sends and ten deliveries, each delivery after its send, across the two files.
    const log = readFileSync(out, "utf8");
    expect(log.match(/^send /gm)).toHaveLength(10);
    expect(log.match(/^deliver /gm)).toHaveLength(10);
  });
});
