/**
 * The sample applications as the real-process tests run them, and how a
 * run's outputs are judged against a failure-free run.
 *
 * Deterministic apps (token-ring, all-to-all, jacobi, writer): every rank's
 * committed outputs, in release order, must equal the failure-free run's.
 * master-worker takes its task seeds from `ctx.read(Math.random)`, so two
 * runs differ; a run is right when it is *a* failure-free run: tasks 0..T-1
 * each reported once with result === work(seed), the final checksum is the
 * sum of those results, and the workers' task counts add up to T.
 */
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { ROOT } from "./paths.js";

export interface AppCase {
  readonly name: string;
  readonly path: string;
  readonly args: readonly string[];
  readonly deterministic: boolean;
  /** Takes inputs through ctx.read (not replayable under a protocol that does not log reads). */
  readonly reads: boolean;
  /**
   * Deliveries rank `rank` makes in every run, whatever the timing; count
   * kills must stay within it. Absent: the failure-free run's count holds in
   * every run (the app's per-rank delivery counts do not depend on timing).
   */
  readonly minDeliveries?: (rank: number) => number;
}

const app = (name: string, args: string[], o: { deterministic?: boolean; reads?: boolean; minDeliveries?: (rank: number) => number } = {}): AppCase => ({
  name,
  path: join(ROOT, "examples/apps", `${name}.mjs`),
  args,
  deterministic: o.deterministic ?? true,
  reads: o.reads ?? false,
  ...(o.minDeliveries === undefined ? {} : { minDeliveries: o.minDeliveries }),
});

/** Sizes keep a 4-rank run to a few hundred deliveries per rank: seconds over TCP, time for several kills. */
export const APPS: readonly AppCase[] = [
  app("token-ring", ["60"]),
  app("all-to-all", ["30"]),
  app("jacobi", ["32", "60"]),
  // The master receives one result per task in every run; how many tasks a worker gets depends on
  // timing (a killed worker gets fewer), only its stop message is certain.
  app("master-worker", ["60"], { deterministic: false, reads: true, minDeliveries: (rank) => (rank === 0 ? 60 : 1) }),
  app("writer", ["120"]),
];

export function appCase(name: string): AppCase {
  const a = APPS.find((x) => x.name === name);
  if (a === undefined) throw new Error(`no app ${name} (have ${APPS.map((x) => x.name).join(", ")})`);
  return a;
}

/** Returns null when `got` is right, else what is wrong. */
export function judge(a: AppCase, got: readonly (readonly unknown[])[], reference: readonly (readonly unknown[])[]): string | null {
  if (!a.deterministic) return judgeMasterWorker(got, Number(a.args[0]));
  for (let r = 0; r < reference.length; r++) {
    const g = got[r] ?? [];
    const want = reference[r]!;
    if (g.length !== want.length) return `rank ${r}: ${g.length} outputs, failure-free run has ${want.length}`;
    for (let i = 0; i < want.length; i++) {
      if (!isDeepStrictEqual(g[i], want[i])) return `rank ${r} output ${i}: ${JSON.stringify(g[i])}, failure-free run: ${JSON.stringify(want[i])}`;
    }
  }
  return null;
}

/** Same as examples/apps/master-worker.mjs work(). */
function work(seed: number): number {
  let x = seed >>> 0;
  for (let i = 0; i < 2000; i++) x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  return x;
}

interface TaskOut {
  task: number;
  seed: number;
  result: number;
}

function judgeMasterWorker(got: readonly (readonly unknown[])[], tasks: number): string | null {
  const master = (got[0] ?? []) as readonly Record<string, number>[];
  const results = master.filter((o) => "task" in o) as unknown as TaskOut[];
  const final = master.filter((o) => "checksum" in o);
  const seen = new Set<number>();
  let sum = 0;
  for (const o of results) {
    if (seen.has(o.task)) return `task ${o.task} reported twice`;
    seen.add(o.task);
    if (o.result !== work(o.seed)) return `task ${o.task}: result ${o.result} is not work(${o.seed})`;
    sum = (sum + o.result) >>> 0;
  }
  if (seen.size !== tasks) return `${seen.size} tasks reported, want ${tasks}`;
  if (final.length !== 1 || final[0]!["tasks"] !== tasks || final[0]!["checksum"] !== sum) return `final ${JSON.stringify(final)}: want { tasks: ${tasks}, checksum: ${sum} }`;
  let byWorkers = 0;
  for (let r = 1; r < got.length; r++) {
    const w = (got[r] ?? []) as readonly Record<string, number>[];
    if (w.length !== 1 || w[0]!["worker"] !== r) return `worker ${r}: outputs ${JSON.stringify(w)}`;
    byWorkers += w[0]!["tasks"]!;
  }
  if (byWorkers !== tasks) return `workers report ${byWorkers} tasks, want ${tasks}`;
  return null;
}
