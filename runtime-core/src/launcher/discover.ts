/**
 * `--discover kubernetes|slurm`: single-rank mode's rank, size and peer
 * table from the scheduler that started the process, instead of
 * `--rank R --peers h:p,...`. Every rank listens on the same `--port`.
 *
 * Kubernetes (an Indexed Job with a headless Service, see
 * examples/deploy/kubernetes.yaml):
 *   rank    JOB_COMPLETION_INDEX (set by the Job controller)
 *   size    -n N, else env EGIDA_SIZE (the Job's `completions`)
 *   job     --k8s-job NAME, else env EGIDA_K8S_JOB, else the pod's host name
 *           without its `-<index>` suffix (an Indexed Job's pods are named
 *           `<job>-<index>`)
 *   service --k8s-service NAME, else env EGIDA_K8S_SERVICE (the headless
 *           Service, the pod template's `subdomain`)
 *   peers   `<job>-<i>.<service>:<port>`
 *
 * Slurm (one task per node, see examples/deploy/slurm.sbatch):
 *   rank    SLURM_PROCID
 *   size    SLURM_NTASKS (or SLURM_NPROCS)
 *   peers   the i-th host of SLURM_STEP_NODELIST (inside `srun`), else of
 *           SLURM_JOB_NODELIST, expanded (hostlist.ts), `:<port>`
 *
 * Every fault is a string: one line naming the variable or flag and how to
 * set it (a usage error, exit 2).
 */
import { expandHostlist, HostlistError } from "./hostlist.js";
import type { PeerAddress } from "./ipc.js";

export type DiscoverKind = "kubernetes" | "slurm";
export const DISCOVER_KINDS: readonly DiscoverKind[] = ["kubernetes", "slurm"];

export interface DiscoverInput {
  readonly kind: DiscoverKind;
  readonly port: number;
  /** -n N, when given. */
  readonly size?: number;
  readonly k8sJob?: string;
  readonly k8sService?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** This machine's host name (os.hostname()), when env HOSTNAME is unset. */
  readonly hostname: string;
}

export interface Discovered {
  readonly rank: number;
  readonly peers: readonly PeerAddress[];
  /** Where the values came from, for the start-up line. */
  readonly source: string;
}

export function discover(d: DiscoverInput): Discovered | string {
  return d.kind === "kubernetes" ? kubernetes(d) : slurm(d);
}

/** A non-negative integer from env `name`, or a message. */
function envInt(env: DiscoverInput["env"], name: string, min: number, hint: string): number | string {
  const v = env[name];
  if (v === undefined || v.trim() === "") return `${name} is not set: ${hint}`;
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(Number(v)) || Number(v) < min) return `${name}="${v}" is not an integer >= ${min}`;
  return Number(v);
}

/** A DNS label (RFC 1123), as Kubernetes names Jobs, Services and pods. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function kubernetes(d: DiscoverInput): Discovered | string {
  const K = "--discover kubernetes";
  const rank = envInt(d.env, "JOB_COMPLETION_INDEX", 0, `${K} runs in a pod of an Indexed Job (completionMode: Indexed), which sets it`);
  if (typeof rank === "string") return `${K}: ${rank}`;
  let size = d.size;
  if (size === undefined) {
    const s = envInt(d.env, "EGIDA_SIZE", 1, "give the job size with -n N or env EGIDA_SIZE (the Job's completions)");
    if (typeof s === "string") return `${K}: ${s}`;
    size = s;
  }
  if (rank >= size) return `${K}: JOB_COMPLETION_INDEX=${rank} is not below the job size ${size} (-n / EGIDA_SIZE must equal the Job's completions)`;
  const service = d.k8sService ?? nonEmpty(d.env["EGIDA_K8S_SERVICE"]);
  if (service === undefined) return `${K}: no headless Service name: give --k8s-service NAME or env EGIDA_K8S_SERVICE (the pod template's subdomain)`;
  let job = d.k8sJob ?? nonEmpty(d.env["EGIDA_K8S_JOB"]);
  let jobFrom = "--k8s-job/EGIDA_K8S_JOB";
  if (job === undefined) {
    const host = nonEmpty(d.env["HOSTNAME"]) ?? d.hostname;
    const suffix = `-${rank}`;
    if (!host.endsWith(suffix) || host.length === suffix.length) {
      return `${K}: cannot tell the Job's name: the host name "${host}" does not end in -${rank} (JOB_COMPLETION_INDEX); give --k8s-job NAME or env EGIDA_K8S_JOB`;
    }
    job = host.slice(0, -suffix.length);
    jobFrom = "the pod's host name";
  }
  if (!DNS_LABEL.test(job)) return `${K}: Job name "${job}" (from ${jobFrom}) is not a DNS label (lower-case letters, digits and '-')`;
  if (!DNS_LABEL.test(service)) return `${K}: Service name "${service}" is not a DNS label (lower-case letters, digits and '-')`;
  const peers = Array.from({ length: size }, (_, i) => ({ host: `${job}-${i}.${service}`, port: d.port }));
  return { rank, peers, source: `Kubernetes Indexed Job ${job}, Service ${service}` };
}

function slurm(d: DiscoverInput): Discovered | string {
  const S = "--discover slurm";
  const underSrun = "run it under srun (one task per node), or give --rank R --peers h:p,...";
  const rank = envInt(d.env, "SLURM_PROCID", 0, underSrun);
  if (typeof rank === "string") return `${S}: ${rank}`;
  const sizeVar = d.env["SLURM_NTASKS"] !== undefined ? "SLURM_NTASKS" : "SLURM_NPROCS";
  const size = envInt(d.env, sizeVar, 1, underSrun);
  if (typeof size === "string") return `${S}: ${size.replace("SLURM_NPROCS", "SLURM_NTASKS")}`;
  if (d.size !== undefined && d.size !== size) return `${S}: -n ${d.size} disagrees with ${sizeVar}=${size}`;
  if (rank >= size) return `${S}: SLURM_PROCID=${rank} is not below ${sizeVar}=${size}`;
  const listVar = nonEmpty(d.env["SLURM_STEP_NODELIST"]) !== undefined ? "SLURM_STEP_NODELIST" : "SLURM_JOB_NODELIST";
  const list = nonEmpty(d.env[listVar]) ?? nonEmpty(d.env["SLURM_NODELIST"]);
  if (list === undefined) return `${S}: SLURM_JOB_NODELIST is not set: ${underSrun}`;
  let nodes: string[];
  try {
    nodes = expandHostlist(list);
  } catch (e) {
    if (e instanceof HostlistError) return `${S}: ${listVar}: ${e.message}`;
    throw e;
  }
  if (nodes.length !== size) {
    return (
      `${S}: ${sizeVar}=${size} but ${listVar} "${list}" names ${nodes.length} node${nodes.length === 1 ? "" : "s"}; ` +
      "every rank listens on the same --port, so run exactly one task per node (sbatch/srun --ntasks-per-node=1)"
    );
  }
  const peers = nodes.map((host) => ({ host, port: d.port }));
  return { rank, peers, source: `Slurm job ${d.env["SLURM_JOB_ID"] ?? "?"}, nodes ${list}` };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}
