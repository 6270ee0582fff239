/**
 * egida-run end to end: spawns `node runtime-core/bin/egida-run.js` (built by
 * the root `npm run build`) and checks exit codes, messages and outputs.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { freePorts } from "../src/launcher/tcp-job.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "runtime-core/bin/egida-run.js");
const app = (name: string) => join(ROOT, "examples/apps", `${name}.mjs`);
const tmp = mkdtempSync(join(tmpdir(), "egida-launcher-test-"));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env } });
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      c.kill("SIGKILL");
      reject(new Error(`egida-run ${args.join(" ")} timed out\n${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    c.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

type Line = { rank: number; seq?: number; data: Record<string, unknown> };
const readLines = (file: string): Line[] =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

/** Per-rank output sequences: what must match between runs (the interleaving across ranks may differ). */
function perRank(lines: Line[]): Record<number, unknown[]> {
  const m: Record<number, unknown[]> = {};
  for (const l of lines) (m[l.rank] ??= []).push(l.data);
  return m;
}

const noStack = (s: string) => expect(s).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);

async function job(name: string, n: number, args: string[], extra: string[] = []): Promise<{ r: Run; lines: Line[] }> {
  const out = join(tmp, `${name}-${extra.includes("--sim") ? "sim" : "tcp"}-${Math.random().toString(36).slice(2)}.jsonl`);
  const r = await run(["-n", String(n), "--protocol", "none", "-q", "--output", out, ...extra, app(name), "--", ...args]);
  if (r.code !== 0) throw new Error(`${name} exited ${r.code}\n${r.stderr}`);
  return { r, lines: readLines(out) };
}

describe("egida-run usage errors", () => {
  it.each([
    [["--protocol", "none", app("token-ring")], /missing -n/],
    [["-n", "3", "--protocol", "none", "--bogus", app("token-ring")], /unknown option '--bogus'/],
    [["-n", "0", "--protocol", "none", app("token-ring")], /-n must be an integer >= 1/],
    [["-n", "3", "--protocol", "none", "--kill", "1@soon", app("token-ring")], /expected RANK@Kmsgs/],
    [["-n", "3", "--protocol", "none", "--kill", "5@10ms", app("token-ring")], /no rank 5/],
    [["-n", "3", app("token-ring")], /required option '--protocol/],
    [["--rank", "0", "--protocol", "none", app("token-ring")], /needs both --rank R and --peers/],
  ])("%j → exit 2, no stack", async (args, message) => {
    const r = await run(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    noStack(r.stderr);
  });

  it("a bad application module → a clear message, exit 2", async () => {
    const bad = join(tmp, "app.mjs");
    writeFileSync(bad, "export default { init() { return 0; } };\n");
    const r = await run(["-n", "2", "--protocol", "none", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("app.mjs: default export must have init(args) and onMessage(state, msg, ctx)");
    noStack(r.stderr);
  });

  it("an unknown protocol → a clear message, exit 2", async () => {
    const r = await run(["-n", "2", "--protocol", "no-such-protocol-pkg", app("token-ring")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--protocol no-such-protocol-pkg: not a directory, not `none`/);
    noStack(r.stderr);
  });
});

describe("egida-run with none over TCP, and --sim", () => {
  it("token-ring: every rank sees K visits; TCP and --sim agree", async () => {
    const [tcp, sim] = await Promise.all([job("token-ring", 4, ["30"]), job("token-ring", 4, ["30"], ["--sim", "--seed", "7"])]);
    expect(tcp.lines.map((l) => l.data["visits"])).toEqual([30, 30, 30, 30]);
    expect(perRank(tcp.lines)).toEqual(perRank(sim.lines));
    expect(tcp.r.stderr).toMatch(/job summary \(protocol none, 4 ranks/);
  });

  it("all-to-all: per-channel digests; TCP and --sim agree", async () => {
    const [tcp, sim] = await Promise.all([job("all-to-all", 4, ["10"]), job("all-to-all", 4, ["10"], ["--sim"])]);
    expect(tcp.lines).toHaveLength(4);
    expect(perRank(tcp.lines)).toEqual(perRank(sim.lines));
  });

  it("jacobi: local residuals and the global residual; TCP and --sim agree", async () => {
    const [tcp, sim] = await Promise.all([job("jacobi", 3, ["24", "40"]), job("jacobi", 3, ["24", "40"], ["--sim"])]);
    const global = tcp.lines.find((l) => "residual" in l.data)!;
    expect(global.rank).toBe(0);
    expect(global.data["iterations"]).toBe(40);
    expect(global.data["residual"]).toBeGreaterThan(0);
    expect(perRank(tcp.lines)).toEqual(perRank(sim.lines));
  });

  it("writer: W outputs per rank in step order; TCP and --sim agree", async () => {
    const [tcp, sim] = await Promise.all([job("writer", 3, ["40"]), job("writer", 3, ["40"], ["--sim"])]);
    for (let r = 0; r < 3; r++) expect(perRank(tcp.lines)[r]!.map((d) => (d as { step: number }).step)).toEqual([...Array(40).keys()]);
    expect(perRank(tcp.lines)).toEqual(perRank(sim.lines));
  });

  it("master-worker: every task's result matches its (random) seed", async () => {
    const { lines } = await job("master-worker", 4, ["30"]);
    const { work } = (await import(app("master-worker"))) as { work: (s: number) => number };
    const results = lines.filter((l) => "task" in l.data);
    expect(results).toHaveLength(30);
    for (const l of results) expect(l.data["result"]).toBe(work(l.data["seed"] as number));
    const workers = lines.filter((l) => "worker" in l.data);
    expect(workers.reduce((a, l) => a + (l.data["tasks"] as number), 0)).toBe(30);
  });

  it("the default temp storage is removed after a successful run, kept and named with --keep-storage", async () => {
    // A private TMPDIR: the launcher's temp storage is the only thing created in it.
    const own = mkdtempSync(join(tmp, "tmpdir-"));
    const env = { TMPDIR: own };
    const plain = await run(["-n", "2", "--protocol", "none", "-q", app("token-ring"), "--", "3"], { env });
    expect(plain.code).toBe(0);
    expect(readdirSync(own)).toEqual([]);
    const kept = await run(["-n", "2", "--protocol", "none", "-q", "--keep-storage", app("token-ring"), "--", "3"], { env });
    expect(kept.code).toBe(0);
    const dirs = readdirSync(own);
    expect(dirs).toHaveLength(1);
    expect(dirs[0]).toMatch(/^egida-run-/);
    expect(kept.stderr).toContain(`storage kept in ${join(own, dirs[0]!)}`);
    const sim = await run(["-n", "2", "--protocol", "none", "--sim", "--keep-storage", app("token-ring"), "--", "3"]);
    expect(sim.code).toBe(2);
    expect(sim.stderr).toMatch(/^error: --keep-storage: --sim keeps its storage in memory/);
  });

  it("echoes outputs on stdout with a rank prefix", async () => {
    const r = await run(["-n", "2", "--protocol", "none", app("token-ring"), "--", "3"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[rank 0\] \{"rank":0,"acc":\d+,"visits":3\}$/m);
  });
});

describe("egida-run failures and the watchdog", () => {
  it("restarts a killed rank (--kill 1@200ms); under none its state is lost and the job ends cleanly", async () => {
    const r = await run(["-n", "3", "--protocol", "none", "-q", "--kill", "1@200ms", "--stall-timeout", "4000", "--timeout", "20000", app("token-ring"), "--", "3000"]);
    expect(r.stderr).toMatch(/--kill 1@200ms: SIGKILL rank 1 \(incarnation 0\)/);
    expect(r.stderr).toMatch(/watchdog: restarting rank 1 as incarnation 1/);
    expect(r.stderr).toMatch(/rank 1: state lost/);
    expect(r.stderr).toMatch(/rank 1 incarnation 1 is live/);
    // none cannot recover the lost token: the defined outcome is a clean stall report (exit 5), or 0 if the ring survived.
    expect([0, 5]).toContain(r.code);
    if (r.code === 5) expect(r.stderr).toMatch(/timeout: stalled: no progress for \d+\.\d s .*--stall-timeout 4000 ms\); rank 0 /);
    noStack(r.stderr);
  });

  it("--kill RANK@Kmsgs fires at exactly that delivery, once", async () => {
    const r = await run(["-n", "3", "--protocol", "none", "-q", "--kill", "2@50msgs", "--stall-timeout", "4000", app("token-ring"), "--", "1000"]);
    expect(r.stderr).toMatch(/--kill 2@50msgs: rank 2 killed at its delivery 50 \(incarnation 0\)/);
    expect(r.stderr.match(/killed at its delivery/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/restarting rank 2 as incarnation 1/);
    expect([0, 5]).toContain(r.code);
  });

  it("an application error: exit 1 with the rank and the stack", async () => {
    const bad = join(tmp, "throws.mjs");
    writeFileSync(
      bad,
      `export default {
  init: () => ({}),
  onStart(s, ctx) { if (ctx.rank === 0) ctx.send(1, "x"); },
  onMessage: function handleBadly() { throw new Error("bad input on purpose"); },
};\n`,
    );
    const r = await run(["-n", "2", "--protocol", "none", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/application error on rank 1: Error: bad input on purpose/);
    expect(r.stderr).toMatch(/handleBadly/);
  });

  it("--sim runs the kill path deterministically", async () => {
    const args = ["-n", "3", "--protocol", "none", "-q", "--sim", "--seed", "3", "--kill", "1@40msgs", app("token-ring"), "--", "100"];
    const [a, b] = await Promise.all([run(args), run(args)]);
    expect(a.code).toBe(5);
    expect(a.stderr).toMatch(/killed rank 1/);
    expect(a.stderr).toMatch(/the simulation went idle/);
    expect(a.stderr.replace(/\d+ ms\)/g, "")).toBe(b.stderr.replace(/\d+ ms\)/g, ""));
  });
});

describe("TypeScript apps", () => {
  it("runs a .ts app (outside any package, so CommonJS to Node) through tsx", async () => {
    const f = join(tmp, "typed-app.ts");
    writeFileSync(
      f,
      `interface Ctx { rank: number; send(to: number, d: unknown): void; done(): void; write(d: unknown): Promise<void> }
export default {
  init: (): { n: number } => ({ n: 0 }),
  onStart(_s: { n: number }, ctx: Ctx): void { if (ctx.rank === 0) { ctx.send(1, "hi"); ctx.done(); } },
  async onMessage(s: { n: number }, m: { data: unknown }, ctx: Ctx): Promise<void> { s.n++; await ctx.write({ got: m.data }); ctx.done(); },
};\n`,
    );
    const r = await run(["-n", "2", "--protocol", "none", f]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('[rank 1] {"got":"hi"}');
  });
});

describe("--protocol DIR", () => {
  it("refuses fewer ranks than the protocol's f + 1 (a causal determinant could never become stable: the job would wait forever)", async () => {
    const proto = join(ROOT, "generated/family-based-causal");
    for (const extra of [[], ["--sim"]]) {
      const r = await run(["-n", "2", "--protocol", proto, ...extra, app("token-ring"), "--", "3"]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/tolerates f = 2 .* the job has 2 rank\(s\): run at least 3 ranks \(-n 3\) or lower f \(--f 1\)/);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("loads a generated package without dist/ from src/index.ts through tsx", async () => {
    const dir = join(tmp, "proto-pkg");
    mkdirSync(join(dir, "src"), { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "proto-pkg", type: "module", exports: { ".": "./dist/index.js" } }));
    // A pass-through protocol written in TypeScript with no imports (FrameKind.App is 1).
    writeFileSync(
      join(dir, "src/index.ts"),
      `interface Host { rank: number; transport: { send(to: number, f: object): void }; initApp(o: { replay: boolean }): Promise<void>;
  deliver(from: number, p: Uint8Array, o: { replay: boolean }): Promise<void>; emitOutput(seq: number, p: Uint8Array): Promise<void> }
class Passthrough {
  private q: Promise<void> = Promise.resolve();
  private seq = 0;
  private sent = 0;
  constructor(private readonly host: Host) {}
  start(): Promise<void> { return this.host.initApp({ replay: false }); }
  send(to: number, payload: Uint8Array): void { this.sent++; this.host.transport.send(to, { kind: 1, tag: 0, piggyback: new Uint8Array(0), payload }); }
  onFrame(f: { from: number; payload: Uint8Array }): void { this.q = this.q.then(() => this.host.deliver(f.from, f.payload, { replay: false })); }
  read(p: () => Uint8Array): Promise<Uint8Array> { return Promise.resolve(p()); }
  write(p: Uint8Array): Promise<void> { return this.host.emitOutput(this.seq++, p); }
  onPeerRestart(): void {}
  stats() { return { messages: this.sent, piggybackBytes: 0, bytesLogged: 0, checkpoints: 0, rollbacks: 0 }; }
  async stop(): Promise<void> {}
}
export const protocol = { protocolName: "passthrough-ts", defaultF: 0, create: (h: Host) => new Passthrough(h) };
`,
    );
    const out = join(tmp, "proto-pkg.jsonl");
    const r = await run(["-n", "3", "--protocol", dir, "-q", "--output", out, app("token-ring"), "--", "5"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/not built .*loading src\/index.ts through tsx/);
    expect(r.stderr).toMatch(/protocol passthrough-ts/);
    expect(readLines(out).map((l) => l.data["visits"])).toEqual([5, 5, 5]);
  });

  it("runs the source, not a dist/ older than it (a package edited or regenerated since its build)", async () => {
    const dir = join(tmp, "proto-pkg"); // from the test above: src/index.ts is the pass-through protocol
    mkdirSync(join(dir, "dist"), { recursive: true });
    // A stale build that would fail the job if it ran.
    writeFileSync(join(dir, "dist/index.js"), `export const protocol = { protocolName: "stale-build", defaultF: 0, create() { throw new Error("stale build ran"); } };\n`);
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, "dist/index.js"), old, old);
    const out = join(tmp, "proto-pkg-stale.jsonl");
    const r = await run(["-n", "3", "--protocol", dir, "-q", "--output", out, app("token-ring"), "--", "5"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/dist\/index.js is older than src\/index.ts; loading the source through tsx/);
    expect(readLines(out).map((l) => l.data["visits"])).toEqual([5, 5, 5]);
    // Once rebuilt (newer than the source), the build is what runs.
    const now = new Date();
    utimesSync(join(dir, "dist/index.js"), now, now);
    const again = await run(["-n", "3", "--protocol", dir, "-q", "--output", out, app("token-ring"), "--", "5"]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/stale build ran/);
  });
});

describe("single-rank mode", () => {
  it("three separate processes on localhost form a job and all exit 0", async () => {
    const ports = await freePorts(3, "127.0.0.1");
    const peers = ports.map((p) => `127.0.0.1:${p}`).join(",");
    const dir = join(tmp, "single");
    const secret = join(tmp, "secret");
    writeFileSync(secret, "single-rank-test-secret");
    const runs = await Promise.all(
      [0, 1, 2].map((rank) =>
        run([
          "--rank", String(rank), "--peers", peers, "--secret-file", secret, "--protocol", "none", "-q",
          "--storage-dir", dir, "--output", join(dir, `out-${rank}.jsonl`), app("all-to-all"), "--", "6",
        ]),
      ),
    );
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/starting incarnation 0 of 3 ranks/);
      expect(r.stderr).toMatch(/every rank is done/);
    }
    const lines = [0, 1, 2].flatMap((rank) => readLines(join(dir, `out-${rank}.jsonl`)));
    expect(lines.map((l) => [l.rank, l.seq])).toEqual([[0, 0], [1, 0], [2, 0]]);
    // Same results as the launcher's own TCP job.
    const { lines: ref } = await job("all-to-all", 3, ["6"]);
    expect(perRank(lines)).toEqual(perRank(ref));
    // A second start of rank 0 from the same storage dir is incarnation 1.
    expect(readFileSync(join(dir, "incarnation-rank-0"), "utf8").trim()).toBe("0");
  });

  it("without a secret: usage error", async () => {
    const r = await run(["--rank", "0", "--peers", "127.0.0.1:1,127.0.0.1:2", "--protocol", "none", "--storage-dir", tmp, app("token-ring")], {
      env: { EGIDA_SECRET: "" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs the job's secret/);
  });

  it.each<[string, { file?: string; env?: string }, RegExp]>([
    ["--secret-file with 1 byte", { file: "x" }, /--secret-file .*short-secret\) is 1 bytes, it must be at least 16/],
    ["--secret-file with 15 bytes", { file: "0123456789abcde" }, /is 15 bytes, it must be at least 16/],
    ["EGIDA_SECRET with 9 bytes", { env: "change-me" }, /the job secret \(EGIDA_SECRET\) is 9 bytes, it must be at least 16/],
  ])("a short secret (%s): one line, exit 2", async (_what, secret, message) => {
    const args = ["--rank", "0", "--peers", "127.0.0.1:1,127.0.0.1:2", "--protocol", "none", "--storage-dir", join(tmp, "short"), app("token-ring")];
    if (secret.file !== undefined) {
      const f = join(tmp, "short-secret");
      writeFileSync(f, secret.file);
      args.unshift("--secret-file", f);
    }
    const r = await run(args, { env: { EGIDA_SECRET: secret.env ?? "" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/head -c 32 \/dev\/urandom > secret.*openssl rand -hex 32/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    noStack(r.stderr);
  });

  it("a --tls-cert that is not a certificate: one line naming it, exit 2", async () => {
    const bad = join(tmp, "not-a-cert.pem");
    writeFileSync(bad, "hello\n");
    const r = await run(["--rank", "0", "--peers", "127.0.0.1:1,127.0.0.1:2", "--tls-cert", bad, "--tls-key", bad, "--tls-ca", bad, "--protocol", "none", "--storage-dir", join(tmp, "tls-bad"), app("token-ring")], {
      env: { EGIDA_SECRET: "0123456789abcdef0123" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: --tls-cert .*not-a-cert\.pem is not a PEM certificate/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    noStack(r.stderr);
  });

  it("a --shared-dir whose parent is missing: one line naming --shared-dir, exit 7", async () => {
    const r = await run(["--rank", "0", "--peers", "127.0.0.1:1,127.0.0.1:2", "--shared-dir", join(tmp, "no-parent", "shared"), "--protocol", "none", "--storage-dir", join(tmp, "shared-bad"), app("token-ring")], {
      env: { EGIDA_SECRET: "0123456789abcdef0123" },
    });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/shared storage error on rank 0: cannot create storage directory .*no-parent\/shared: .*use another --shared-dir/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("a missing --secret-file: one line, exit 7 (an environment fault)", async () => {
    const r = await run(["--rank", "0", "--peers", "127.0.0.1:1,127.0.0.1:2", "--secret-file", join(tmp, "no-such-secret"), "--protocol", "none", "--storage-dir", tmp, app("token-ring")]);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/no-such-secret.*ENOENT/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
