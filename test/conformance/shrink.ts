/**
 * Delta debugging for crash schedules: drop crashes, then move each one
 * earlier (smaller step, delivery, occurrence or delay), keeping every change
 * under which the run still fails. The result is 1-minimal for removal: no
 * single crash can be dropped. `budget` bounds the re-runs.
 */
import type { CrashSchedule, CrashSpec } from "./schedule.js";

export async function shrinkSchedule(
  schedule: CrashSchedule,
  fails: (s: CrashSchedule) => Promise<boolean>,
  budget = 80,
): Promise<{ schedule: CrashSchedule; runs: number }> {
  let cur = [...schedule];
  let runs = 0;
  const attempt = async (cand: CrashSpec[]): Promise<boolean> => {
    if (runs >= budget) return false;
    runs++;
    if (await fails(cand)) {
      cur = cand;
      return true;
    }
    return false;
  };

  // 1. Drop crashes, one at a time, until none can go.
  for (let changed = true; changed && cur.length > 0; ) {
    changed = false;
    for (let i = 0; i < cur.length; i++) {
      if (await attempt(cur.filter((_, j) => j !== i))) {
        changed = true;
        break;
      }
    }
  }

  // 2. Move each crash earlier: binary search for the smallest value that still fails.
  for (let i = 0; i < cur.length; i++) {
    const key = numericKey(cur[i]!);
    if (key === null) continue;
    let lo = key === "atTime" || key === "delayMs" ? 0 : 1;
    let hi = valueOf(cur[i]!, key);
    while (lo < hi && runs < budget) {
      const mid = key === "atTime" || key === "delayMs" ? Math.floor(((lo + hi) / 2) * 10) / 10 : Math.floor((lo + hi) / 2);
      if (mid >= hi) break;
      const cand = cur.map((s, j) => (j === i ? withValue(s, key, mid) : s));
      if (await attempt(cand)) hi = mid;
      else lo = key === "atTime" || key === "delayMs" ? mid + 0.1 : mid + 1;
    }
  }
  return { schedule: cur, runs };
}

type Key = "atStep" | "atTime" | "atDelivery" | "nth" | "delayMs";

function numericKey(s: CrashSpec): Key | null {
  if ("atStep" in s) return "atStep";
  if ("atTime" in s) return "atTime";
  if ("atDelivery" in s) return "atDelivery";
  if (s.when === "restart") return "delayMs";
  return "nth";
}

function valueOf(s: CrashSpec, k: Key): number {
  const v = (s as Partial<Record<Key, number>>)[k];
  return v ?? (k === "nth" ? 1 : 0);
}

function withValue(s: CrashSpec, k: Key, v: number): CrashSpec {
  return { ...s, [k]: v } as CrashSpec;
}
