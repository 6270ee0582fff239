/**
 * bench/job.ts end to end in --quick mode: one protocol, `none` and the raw
 * program on the smallest streaming job. Asserts the report's structure and
 * what the probes count (messages, fsyncs, piggybacks), never speed.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { Row, WorkloadResult } from "../bench/job.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "bench-job-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bench(args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "bench/job.ts"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
}

describe("bench/job.ts --quick", () => {
  const json = join(dir, "out.json");
  const run = bench(["--quick", "--workload", "stream", "--protocol", "receiver-based-pessimistic", "--json", json]);

  it("exits 0 and prints one markdown table with a row per variant and ratios", () => {
    expect(run.stderr).not.toMatch(/FAILED/);
    expect(run.status).toBe(0);
    const rows = run.stdout.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| variant") && !l.startsWith("| ---"));
    const cells = rows.map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
    expect(cells.map((c) => c[0])).toEqual(["none", "receiver-based-pessimistic", "raw"]);
    for (const c of cells) {
      expect(c).toHaveLength(14);
      for (const r of c.slice(9, 13)) expect(r).toMatch(/^\d+\.\d\d×$/);
      // CPU ×none after start-up: "-" when a job's CPU did not exceed its short twin's.
      expect(c[13]).toMatch(/^(\d+\.\d\d×|-)$/);
    }
    expect(cells[0]![9]).toBe("1.00×"); // none: wall ×none
    expect(cells[2]![11]).toBe("1.00×"); // raw: wall ×raw
    expect(cells[0]![13]).toMatch(/^(1\.00×|-)$/); // none: CPU ×none after start-up
  });

  it("writes the same numbers as JSON: equal message counts, fsyncs and piggybacks only under the protocol", () => {
    const out = JSON.parse(readFileSync(json, "utf8")) as { results: WorkloadResult[] };
    expect(out.results.map((r) => r.workload)).toEqual(["stream"]);
    const rows = new Map<string, Row>(out.results[0]!.rows.map((r) => [r.variant, r]));
    const none = rows.get("none")!;
    const proto = rows.get("receiver-based-pessimistic")!;
    const raw = rows.get("raw")!;
    for (const r of [none, proto, raw]) {
      expect(r.failures).toBe(0);
      expect(r.cpuMs!.median).toBeGreaterThan(0);
      expect(r.cpuVsNone).toBeGreaterThan(0);
      expect(r.cpuVsRaw).toBeGreaterThan(0);
      // Without --cpus, the jobs may use every CPU this test may.
      expect(r.cpus).toBe(availableParallelism());
    }
    // The raw program runs the same app, so the same message pattern.
    expect(raw.messagesPerSec! * raw.wallMs!.median).toBeCloseTo(none.messagesPerSec! * none.wallMs!.median, 0);
    expect(none.syncsPerMessage).toBe(0);
    expect(raw.syncsPerMessage).toBe(0);
    // Receiver-based pessimistic logging syncs its log before a delivery's effects leave the process:
    // group-committed by the durable watermark, so at most one sync per message, and some.
    expect(proto.syncsPerMessage).toBeGreaterThan(0);
    expect(proto.syncsPerMessage).toBeLessThanOrEqual(1);
    expect(proto.piggybackPerMessage).toBeGreaterThan(0);
    expect(proto.loggedPerMessage).toBeGreaterThan(0);
    expect(none.piggybackPerMessage).toBe(0);
    // The stream's short twin ran (msgs/s after start-up: more messages in the long job) and so did the loopback reference.
    for (const r of [none, proto, raw]) expect(r.steadyMessagesPerSec === null || r.steadyMessagesPerSec > 0).toBe(true);
    expect(out.results[0]!.loopbackMessagesPerSec).toBeGreaterThan(0);
  });

  it("jacobi: every variant also runs its short twin, paired in the same repetition; no loopback (not a throughput workload)", () => {
    const jjson = join(dir, "jacobi.json");
    const r = bench(["--quick", "--workload", "jacobi", "--protocol", "coordinated-checkpointing", "--json", jjson]);
    expect(r.stderr).not.toMatch(/FAILED/);
    expect(r.status).toBe(0);
    for (const v of ["none", "coordinated-checkpointing", "raw"]) {
      expect(r.stderr).toMatch(new RegExp(`rep 1/1 ${v} +wall`));
      expect(r.stderr).toMatch(new RegExp(`rep 1/1 ${v} \\(short\\) +wall`));
    }
    expect(r.stderr).not.toContain("batched loopback");
    const out = JSON.parse(readFileSync(jjson, "utf8")) as { results: WorkloadResult[] };
    const res = out.results[0]!;
    expect(res.loopbackMessagesPerSec).toBeUndefined();
    const rows = new Map<string, Row>(res.rows.map((x) => [x.variant, x]));
    const none = rows.get("none")!.steadyCpuVsNone;
    // `none` against itself is 1, or null (its job cost no more CPU than its twin); then nothing has a ratio.
    if (none === null) for (const x of res.rows) expect(x.steadyCpuVsNone, x.variant).toBeNull();
    else expect(none).toBe(1);
    // 20 iterations against 5: the long job delivered more, so it has a rate after start-up unless it ran no longer.
    for (const x of res.rows) expect(x.steadyMessagesPerSec === null || x.steadyMessagesPerSec > 0).toBe(true);
  });

  it("rejects an unknown workload with one usage line, no stack trace", () => {
    const bad = bench(["--quick", "--workload", "nope"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^bench\/job\.ts: unknown workload "nope"/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it("recovery: a SIGKILLed rank comes back live; the time from its death and its replays are reported, never for none or raw", () => {
    const rjson = join(dir, "recovery.json");
    const r = bench(["--quick", "--workload", "recovery", "--protocol", "fig4a-sby", "--json", rjson]);
    expect(r.stderr).not.toMatch(/FAILED/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("| variant | kill → live ms, median [min–max] | replayed | rollbacks | wall s, median [min–max] |");
    const out = JSON.parse(readFileSync(rjson, "utf8")) as { results: WorkloadResult[] };
    const rows = out.results[0]!.rows;
    expect(rows.map((x) => x.variant)).toEqual(["fig4a-sby"]);
    // The restart delay alone is 100 ms; a pessimistic recovery replays the killed rank's logged deliveries, no rollback.
    expect(rows[0]!.killToLiveMs!.median).toBeGreaterThan(100);
    expect(rows[0]!.replayed).toBeGreaterThan(0);
    expect(rows[0]!.rollbacks).toBe(0);
  });

  it("rejects a malformed --cpus list with one usage line, no stack trace", () => {
    const bad = bench(["--quick", "--cpus", "first"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^bench\/job\.ts: --cpus takes a CPU list/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  // taskset is util-linux's: on Linux (here and in CI) it is there; elsewhere --cpus is refused (exit 2).
  const hasTaskset = spawnSync("taskset", ["-c", "0", process.execPath, "-e", "0"]).status === 0;
  it.skipIf(!hasTaskset)("--cpus 0: every job runs confined to CPU 0, and the report and the JSON say so", () => {
    const pjson = join(dir, "pinned.json");
    const r = bench(["--quick", "--workload", "startup", "--protocol", "coordinated-checkpointing", "--cpus", "0", "--json", pjson]);
    expect(r.stderr).not.toMatch(/FAILED/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("# every job under taskset -c 0");
    const out = JSON.parse(readFileSync(pjson, "utf8")) as { cpus?: string; results: WorkloadResult[] };
    expect(out.cpus).toBe("0");
    const rows = out.results[0]!.rows;
    expect(rows.map((x) => x.variant)).toEqual(["none", "coordinated-checkpointing", "raw"]);
    // Every process of every job (launchers and ranks, raw's too) saw one CPU it may run on.
    for (const row of rows) expect(row.cpus, row.variant).toBe(1);
  });

  it("--help lists the workloads and exits 0", () => {
    const h = bench(["--help"]);
    expect(h.status).toBe(0);
    for (const w of ["stream", "jacobi", "cg", "startup", "recovery"]) expect(h.stdout).toMatch(new RegExp(`^  ${w} `, "m"));
  });
});
