/**
 * The conformance applications: the sample apps of examples/apps, with the
 * sizes the campaign runs them at and what the oracles may assume.
 *
 * `orderDeterministic`: outputs and final states do not depend on how
 * deliveries from different channels interleave, so they must equal a
 * failure-free run's. The others (master-worker: dynamic assignment and
 * ctx.read seeds) are checked against the replay of their recorded delivery
 * order and read values instead.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { checkApp } from "../../runtime-core/src/host/load-app.js";
import type { App } from "../../runtime-core/src/spi.js";

export interface ConformanceApp {
  readonly name: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly size: number;
  readonly orderDeterministic: boolean;
  readonly what: string;
  /** The app calls ctx.read (non-determinism beyond receive order, which a protocol must log to replay it). */
  readonly reads?: boolean;
}

const APPS_DIR = join(import.meta.dirname, "../../examples/apps");

export const CONFORMANCE_APPS: readonly ConformanceApp[] = [
  { name: "token-ring", file: "token-ring.mjs", args: ["12"], size: 4, orderDeterministic: true, what: "one token, 12 rounds" },
  { name: "all-to-all", file: "all-to-all.mjs", args: ["6"], size: 4, orderDeterministic: true, what: "per-channel order-dependent digests, 6 rounds" },
  { name: "jacobi", file: "jacobi.mjs", args: ["16", "20"], size: 4, orderDeterministic: true, what: "16x16 grid, 20 iterations, halo exchange" },
  { name: "master-worker", file: "master-worker.mjs", args: ["24"], size: 4, orderDeterministic: false, what: "24 tasks, seeds via ctx.read", reads: true },
  { name: "writer", file: "writer.mjs", args: ["25"], size: 4, orderDeterministic: true, what: "25 committed outputs per rank" },
];

const cache = new Map<string, App<unknown>>();

export async function loadConformanceApp(a: ConformanceApp): Promise<App<unknown>> {
  let app = cache.get(a.file);
  if (!app) {
    const mod = (await import(pathToFileURL(join(APPS_DIR, a.file)).href)) as { default?: unknown };
    app = checkApp(mod.default, a.file);
    cache.set(a.file, app);
  }
  return app;
}

export function findApp(name: string): ConformanceApp {
  const a = CONFORMANCE_APPS.find((x) => x.name === name);
  if (!a) throw new Error(`unknown app ${name}; known: ${CONFORMANCE_APPS.map((x) => x.name).join(", ")}`);
  return a;
}
