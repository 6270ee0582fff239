import type { KillSpec } from "./options.js";

/** Parse `RANK@Kmsgs` or `RANK@Tms`; returns an error message instead of throwing (it becomes a usage error). */
export function parseKillSpec(text: string, size: number | undefined): KillSpec | string {
  const m = /^(\d+)@(\d+)(msgs|ms)$/.exec(text.trim());
  if (!m) return `--kill ${text}: expected RANK@Kmsgs (after K deliveries) or RANK@Tms (T ms after launch)`;
  const rank = Number(m[1]);
  const n = Number(m[2]);
  if (size !== undefined && rank >= size) return `--kill ${text}: no rank ${rank} in a job of ${size}`;
  if (m[3] === "msgs") {
    if (n < 1) return `--kill ${text}: K must be at least 1`;
    return { rank, atDeliveries: n, text };
  }
  return { rank, atMs: n, text };
}
