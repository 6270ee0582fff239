/**
 * Across real network hosts: four network namespaces, each with its own
 * address (10.77.0.1-4) on a bridge in a fifth ("the switch") and its own
 * /etc/hosts (node00..node03), run one rank each in single-rank mode under a
 * supervisor loop (supervise.sh, restarting a crashed rank as systemd or
 * Kubernetes would). One rank is SIGKILLed mid-run (when its trace shows K
 * deliveries); the job must end with every rank exiting 0 and the committed
 * outputs equal to the failure-free run's. Runs: a pessimistic protocol with
 * explicit --rank/--peers (and --host 0.0.0.0), a causal one with --discover slurm (SLURM_* env,
 * a compressed node list), a checkpoint-only one with --discover kubernetes
 * (JOB_COMPLETION_INDEX, pod host names, peers <job>-<i>.<service> in the
 * hosts files), and the pessimistic one again over mutual TLS with
 * --discover slurm. Each rank
 * has its own storage dir; the nfs-disk medium of all of them is one
 * --shared-dir (here a directory every namespace sees, as an NFS mount).
 *
 * Needs root (ip netns add); where that is refused the tests are skipped
 * with the reason. The TLS run also needs the openssl CLI for its CA.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCerts, opensslMissing, type CertSet } from "../../runtime-core/test/fixtures/tls-certs.js";
import { appCase, judge, type AppCase } from "../realproc/lib/apps.js";
import { EGIDA_RUN } from "../realproc/lib/paths.js";
import { builtProtocol } from "../realproc/lib/protocols.js";
import { referenceRun } from "../realproc/lib/run.js";

const SUPERVISE = fileURLToPath(new URL("./supervise.sh", import.meta.url));
const HOSTS = 4;
/** Unique per test process, so parallel runs on one machine do not collide. */
const TAG = `egida-${process.pid}`;
const NS = (i: number): string => `${TAG}-${i}`;
const SWITCH = `${TAG}-sw`;
const ADDR = (i: number): string => `10.77.0.${i + 1}`;
const NODE = (i: number): string => `node${String(i).padStart(2, "0")}`;
const NODELIST = "node[00-03]";
/** The names an Indexed Job's pods have under a headless Service: <job>-<i>.<service>. */
const K8S_JOB = "jacobi";
const K8S_SERVICE = "egida";
const POD = (i: number): string => `${K8S_JOB}-${i}`;
const SECRET = "netns-test-secret-0123456789abcdef";
/** writer: an output per step and a baton around the ring; long enough for a kill mid-run. */
const APP: AppCase = { ...appCase("writer"), args: ["80"] };
const RUN_DEADLINE_MS = 45_000;

/** Null when this process may make network namespaces, else why not. */
function netnsRefused(): string | null {
  if (process.platform !== "linux") return "network namespaces are a Linux feature";
  if (process.getuid?.() !== 0) return "creating network namespaces (ip netns add) needs root";
  const probe = `${TAG}-probe`;
  const r = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8" });
  if (r.error !== undefined) return `the ip command (iproute2) is not available: ${r.error.message}`;
  if (r.status !== 0) return `ip netns add was refused: ${r.stderr.trim()}`;
  spawnSync("ip", ["netns", "del", probe]);
  return null;
}

const REFUSED = netnsRefused();
const NO_OPENSSL = opensslMissing();
if (REFUSED !== null) console.warn(`test/deploy/netns.test.ts skipped: ${REFUSED}`);

function sh(cmd: string, args: readonly string[]): void {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.error?.message ?? r.stderr.trim()}`);
}

function makeHosts(): void {
  sh("ip", ["netns", "add", SWITCH]);
  sh("ip", ["-n", SWITCH, "link", "add", "br0", "type", "bridge"]);
  sh("ip", ["-n", SWITCH, "link", "set", "br0", "up"]);
  const hosts = ["127.0.0.1 localhost", ...Array.from({ length: HOSTS }, (_, i) => `${ADDR(i)} ${NODE(i)} ${POD(i)}.${K8S_SERVICE}`)].join("\n") + "\n";
  for (let i = 0; i < HOSTS; i++) {
    sh("ip", ["netns", "add", NS(i)]);
    // Created straight in the namespaces: nothing appears in the caller's.
    sh("ip", ["link", "add", "eth0", "netns", NS(i), "type", "veth", "peer", "name", `p${i}`, "netns", SWITCH]);
    sh("ip", ["-n", SWITCH, "link", "set", `p${i}`, "master", "br0", "up"]);
    sh("ip", ["-n", NS(i), "addr", "add", `${ADDR(i)}/24`, "dev", "eth0"]);
    sh("ip", ["-n", NS(i), "link", "set", "eth0", "up"]);
    sh("ip", ["-n", NS(i), "link", "set", "lo", "up"]);
    // `ip netns exec` bind-mounts /etc/netns/<name>/hosts over /etc/hosts.
    mkdirSync(`/etc/netns/${NS(i)}`, { recursive: true });
    writeFileSync(`/etc/netns/${NS(i)}/hosts`, hosts);
  }
}

function removeHosts(): void {
  for (let i = 0; i < HOSTS; i++) {
    spawnSync("ip", ["netns", "del", NS(i)]);
    rmSync(`/etc/netns/${NS(i)}`, { recursive: true, force: true });
  }
  spawnSync("ip", ["netns", "del", SWITCH]);
}

interface Spec {
  readonly name: string;
  readonly protocol: string;
  /** Where rank and peers come from: --rank/--peers, or --discover. */
  readonly discover: "flags" | "slurm" | "kubernetes";
  readonly tls: boolean;
  readonly killRank: number;
  /** SIGKILL killRank when its trace shows this many deliveries. */
  readonly killAt: number;
  readonly port: number;
}

interface Result {
  readonly codes: (number | null)[];
  readonly stderr: string[];
  readonly outputs: unknown[][];
  readonly killed: boolean;
  readonly dir: string;
  readonly why: string;
}

const children = new Set<ChildProcess>();
let tmp = "";
let certs: CertSet | null = null;

function deliveries(file: string): number {
  if (!existsSync(file)) return 0;
  return readFileSync(file, "utf8").split("\n").filter((l) => l.includes('"type":"deliver"')).length;
}

function traceEvents(file: string): Record<string, unknown>[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return []; // a line torn by the SIGKILL
      }
    });
}

function readOutputs(file: string): unknown[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => (JSON.parse(l) as { data: unknown }).data);
}

async function runJob(s: Spec): Promise<Result> {
  const dir = join(tmp, s.name);
  const shared = join(dir, "shared");
  const traceDir = join(dir, "trace");
  mkdirSync(shared, { recursive: true });
  const protocol = builtProtocol(s.protocol);
  const peers = Array.from({ length: HOSTS }, (_, i) => `${ADDR(i)}:${s.port}`).join(",");
  const stderr: string[] = Array.from({ length: HOSTS }, () => "");
  const procs: ChildProcess[] = [];
  const exits = Array.from({ length: HOSTS }, (_, i) => {
    // With flags, --host (honoured in single-rank mode) makes the rank listen on every interface of its host.
    const where = s.discover === "flags" ? ["--rank", String(i), "--peers", peers, "--host", "0.0.0.0"] : ["--discover", s.discover, "--port", String(s.port)];
    const tls = s.tls && certs !== null ? ["--tls-cert", certs.certs[NODE(i)]!.cert, "--tls-key", certs.certs[NODE(i)]!.key, "--tls-ca", certs.ca] : [];
    const args = [
      "netns", "exec", NS(i), "sh", SUPERVISE, join(dir, `pid-${i}`),
      process.execPath, EGIDA_RUN, ...where, ...tls,
      "--protocol", protocol, "-q", "--storage-dir", join(dir, `storage-${i}`), "--shared-dir", shared,
      "--output", join(dir, `out-${i}.jsonl`), "--trace", traceDir, APP.path, "--", ...APP.args,
    ];
    const scheduler =
      s.discover === "slurm"
        ? { SLURM_PROCID: String(i), SLURM_NTASKS: String(HOSTS), SLURM_JOB_NODELIST: NODELIST, SLURM_JOB_ID: "4242" }
        : s.discover === "kubernetes"
          ? // As the Job controller and the recipe set them; the Job's name comes from the pod's host name.
            { JOB_COMPLETION_INDEX: String(i), HOSTNAME: POD(i), EGIDA_SIZE: String(HOSTS), EGIDA_K8S_SERVICE: K8S_SERVICE }
          : {};
    // Detached: the supervisor, its rank and any restart share one process group, killed together on a hang.
    const c = spawn("ip", args, { env: { ...process.env, EGIDA_SECRET: SECRET, ...scheduler }, detached: true, stdio: ["ignore", "ignore", "pipe"] });
    children.add(c);
    procs.push(c);
    c.stderr!.on("data", (d: Buffer) => (stderr[i] += d.toString()));
    return new Promise<number | null>((resolve) =>
      c.on("close", (code) => {
        children.delete(c);
        resolve(code);
      }),
    );
  });
  let killed = false;
  let polled = false;
  const killFile = join(traceDir, `rank-${s.killRank}.jsonl`);
  const poll = setInterval(() => {
    if (polled || deliveries(killFile) < s.killAt) return;
    polled = true;
    const pid = Number(readFileSync(join(dir, `pid-${s.killRank}`), "utf8").trim());
    try {
      process.kill(pid, "SIGKILL");
      killed = true;
    } catch {
      // ESRCH: the rank had already exited; `killed` stays false and the test says so.
    }
  }, 20);
  const deadline = setTimeout(() => procs.forEach(killGroup), RUN_DEADLINE_MS);
  const codes = await Promise.all(exits);
  clearInterval(poll);
  clearTimeout(deadline);
  const outputs = Array.from({ length: HOSTS }, (_, i) => readOutputs(join(dir, `out-${i}.jsonl`)));
  const why = stderr.map((e, i) => `--- ${NS(i)} (exit ${codes[i]})\n${e.split("\n").slice(-15).join("\n")}`).join("\n");
  return { codes, stderr, outputs, killed, dir, why };
}

function killGroup(c: ChildProcess): void {
  if (c.pid === undefined || c.exitCode !== null) return;
  try {
    process.kill(-c.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

describe.skipIf(REFUSED !== null)("single-rank mode across four network-namespace hosts, under a supervisor, with a SIGKILL", () => {
  let reference: unknown[][] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "egida-deploy-"));
    makeHosts();
    if (NO_OPENSSL === null) certs = makeCerts(join(tmp, "pki"), Array.from({ length: HOSTS }, (_, i) => NODE(i)));
    reference = (await referenceRun(APP.path, APP.args, HOSTS)).outputs;
  });

  afterAll(() => {
    children.forEach(killGroup);
    removeHosts();
    if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
  });

  const check = (s: Spec, r: Result): void => {
    expect(r.killed, `rank ${s.killRank} never reached ${s.killAt} deliveries\n${r.why}`).toBe(true);
    expect(r.codes, r.why).toEqual([0, 0, 0, 0]);
    expect(judge(APP, r.outputs, reference), r.why).toBeNull();
    // The supervisor restarted the killed rank, which counted its incarnation in its storage dir and recovered.
    expect(r.stderr[s.killRank], r.why).toMatch(/supervise: exit 137, restart 1/);
    expect(r.stderr[s.killRank], r.why).toMatch(/starting incarnation 1 of 4 ranks/);
    const recoveries = traceEvents(join(r.dir, "trace", `rank-${s.killRank}.jsonl`)).filter((e) => e["type"] === "recover");
    expect(recoveries.map((e) => e["incarnation"]), r.why).toEqual([1]);
    for (let i = 0; i < HOSTS; i++) {
      if (i !== s.killRank) expect(r.stderr[i], r.why).toMatch(/supervise: exit 0 after 0 restart/);
      // nfs-disk went to --shared-dir, not under the rank's own storage dir.
      expect(existsSync(join(r.dir, "shared", `rank-${i}`)), r.why).toBe(true);
      expect(existsSync(join(r.dir, `storage-${i}`, "shared")), r.why).toBe(false);
    }
  };

  it("pessimistic (receiver-based-pessimistic), explicit --rank/--peers, --host 0.0.0.0", async () => {
    const s: Spec = { name: "pess-flags", protocol: "receiver-based-pessimistic", discover: "flags", tls: false, killRank: 2, killAt: 25, port: 7101 };
    const r = await runJob(s);
    check(s, r);
    for (let i = 0; i < HOSTS; i++) expect(r.stderr[i], r.why).toMatch(/starting incarnation 0 of 4 ranks, listening on 0\.0\.0\.0:7101/);
  }, 90_000);

  it("causal (family-based-causal), --discover slurm", async () => {
    const s: Spec = { name: "causal-slurm", protocol: "family-based-causal", discover: "slurm", tls: false, killRank: 1, killAt: 30, port: 7102 };
    const r = await runJob(s);
    check(s, r);
    for (let i = 0; i < HOSTS; i++) expect(r.stderr[i], r.why).toMatch(/of 4 ranks \(Slurm job 4242, nodes node\[00-03\]\), listening on 0\.0\.0\.0:7102/);
  }, 90_000);

  it("checkpoint-only (coordinated-checkpointing), --discover kubernetes", async () => {
    const s: Spec = { name: "ckpt-k8s", protocol: "coordinated-checkpointing", discover: "kubernetes", tls: false, killRank: 3, killAt: 30, port: 7103 };
    const r = await runJob(s);
    check(s, r);
    for (let i = 0; i < HOSTS; i++) expect(r.stderr[i], r.why).toMatch(/of 4 ranks \(Kubernetes Indexed Job jacobi, Service egida\), listening on 0\.0\.0\.0:7103/);
  }, 90_000);

  it.skipIf(NO_OPENSSL !== null)(`pessimistic over mutual TLS, --discover slurm${NO_OPENSSL === null ? "" : ` (skipped: ${NO_OPENSSL})`}`, async () => {
    const s: Spec = { name: "pess-tls", protocol: "receiver-based-pessimistic", discover: "slurm", tls: true, killRank: 2, killAt: 25, port: 7104 };
    const r = await runJob(s);
    check(s, r);
    for (let i = 0; i < HOSTS; i++) expect(r.stderr[i], r.why).toMatch(/listening on 0\.0\.0\.0:7104 over mutual TLS/);
  }, 90_000);
});
