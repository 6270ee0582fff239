/**
 * Crash schedules: what to crash and when, as plain JSON so a failing run can
 * be reproduced from one command line (`--schedule '<json>'`).
 *
 * A trigger names an observable moment of the run:
 *  - `atStep`: before the k-th event of the SimWorld (1-based, whole job);
 *  - `atTime`: at virtual time t ms;
 *  - `atDelivery`: when the rank's k-th delivery (replays included, counted
 *    over all its incarnations) is handed to the application;
 *  - `when`: a protocol point of that rank, seen through the harness's
 *    storage, sink and trace adapters (so no protocol cooperation is needed):
 *      before-checkpoint / after-checkpoint   CheckpointStore.write called / resolved
 *      before-flush / after-flush             LogStore.sync called (with unsynced records) / resolved
 *      before-output / after-output           ctx.write called / the sink accepted the output
 *      replay                                 a replayed delivery (a crash during recovery)
 *      restart                                `delayMs` after the rank's next restart (during recovery)
 *    `nth` picks the n-th occurrence (default 1), counted from the start of the job.
 */
import { Prng } from "../../runtime-core/src/sim/prng.js";

export const CRASH_POINTS = [
  "before-checkpoint",
  "after-checkpoint",
  "before-flush",
  "after-flush",
  "before-output",
  "after-output",
  "replay",
  "restart",
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export type CrashSpec =
  | { readonly rank: number; readonly atStep: number; readonly restartAfterMs?: number }
  | { readonly rank: number; readonly atTime: number; readonly restartAfterMs?: number }
  | { readonly rank: number; readonly atDelivery: number; readonly restartAfterMs?: number }
  | { readonly rank: number; readonly when: CrashPoint; readonly nth?: number; readonly delayMs?: number; readonly restartAfterMs?: number };

export type CrashSchedule = readonly CrashSpec[];

/** Parse and validate a schedule from JSON text (the CLI's `--schedule`). Throws with a readable message. */
export function parseSchedule(text: string): CrashSchedule {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`--schedule: not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(v)) throw new Error("--schedule: expected a JSON array of crashes");
  return v.map((c: unknown, i) => checkSpec(c, i));
}

function checkSpec(c: unknown, i: number): CrashSpec {
  const where = `--schedule[${i}]`;
  if (typeof c !== "object" || c === null) throw new Error(`${where}: expected an object`);
  const o = c as Record<string, unknown>;
  const int = (k: string, min: number): number | undefined => {
    const x = o[k];
    if (x === undefined) return undefined;
    if (typeof x !== "number" || !Number.isFinite(x) || x < min) throw new Error(`${where}.${k}: expected a number >= ${min}`);
    return x;
  };
  const rank = int("rank", 0);
  if (rank === undefined || !Number.isInteger(rank)) throw new Error(`${where}: needs an integer "rank"`);
  const restartAfterMs = int("restartAfterMs", 0);
  const base = restartAfterMs === undefined ? { rank } : { rank, restartAfterMs };
  const atStep = int("atStep", 1);
  if (atStep !== undefined) return { ...base, atStep };
  const atTime = int("atTime", 0);
  if (atTime !== undefined) return { ...base, atTime };
  const atDelivery = int("atDelivery", 1);
  if (atDelivery !== undefined) return { ...base, atDelivery };
  const when = o["when"];
  if (typeof when === "string" && (CRASH_POINTS as readonly string[]).includes(when)) {
    const nth = int("nth", 1);
    const delayMs = int("delayMs", 0);
    return { ...base, when: when as CrashPoint, ...(nth !== undefined ? { nth } : {}), ...(delayMs !== undefined ? { delayMs } : {}) };
  }
  throw new Error(`${where}: needs one of atStep, atTime, atDelivery, or when (${CRASH_POINTS.join(", ")})`);
}

export function formatSchedule(s: CrashSchedule): string {
  return JSON.stringify(s);
}

/** The kinds of schedule the campaign draws (issue 5, section 2). */
export const SCHEDULE_KINDS = [
  "single",
  "during-recovery",
  "repeated",
  "concurrent-f",
  "near-checkpoint",
  "near-flush",
  "near-output",
  "holder",
  "beyond-f",
] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export interface DrawContext {
  readonly size: number;
  /** Concurrent failures the protocol tolerates. */
  readonly f: number;
  /** Events of a failure-free run of this app and protocol (crash steps are drawn below it). */
  readonly steps: number;
  /** Deliveries per rank in a failure-free run. */
  readonly deliveries: number;
  /** Virtual ms the failure-free run took until everyone was done (the liveness bound scales with it). */
  readonly freeMs: number;
}

/**
 * Draw one schedule of `kind` from `seed`. Step triggers land in the first
 * 90% of a failure-free run's busy part (before everyone is done), so they
 * hit live work, not the drain.
 */
export function drawSchedule(kind: ScheduleKind, seed: number, c: DrawContext): CrashSchedule {
  const rng = new Prng((seed * 0x9e3779b1) ^ (SCHEDULE_KINDS.indexOf(kind) * 0x85ebca6b));
  const step = (): number => rng.int(1, Math.max(1, Math.floor(c.steps * 0.9)));
  const rank = (): number => rng.int(0, c.size - 1);
  const other = (not: readonly number[]): number => {
    const free = Array.from({ length: c.size }, (_, r) => r).filter((r) => !not.includes(r));
    return free[rng.int(0, free.length - 1)]!;
  };
  const nth = (): number => rng.int(1, 2);
  switch (kind) {
    case "single":
      return [{ rank: rank(), atStep: step() }];
    case "during-recovery": {
      const r = rank();
      const second: CrashSpec =
        rng.next() < 0.5 ? { rank: r, when: "replay", nth: rng.int(1, 3) } : { rank: r, when: "restart", delayMs: Math.round(rng.range(0, 3) * 10) / 10 };
      return [{ rank: r, atStep: step() }, second];
    }
    case "repeated": {
      // The same rank again after each restart, sometimes mid-recovery, sometimes after it.
      const r = rank();
      const n = rng.int(2, 4);
      const out: CrashSpec[] = [{ rank: r, atStep: step() }];
      for (let k = 1; k < n; k++) out.push({ rank: r, when: "restart", nth: k, delayMs: Math.round(rng.range(0, 12) * 10) / 10 });
      return out;
    }
    case "concurrent-f":
    case "beyond-f": {
      // (With f = 1, concurrent-f is a single crash; beyond-f is what exercises concurrency.)
      // Within a few events of each other and a restart delay longer than that: truly concurrent.
      const k = kind === "beyond-f" ? c.f + 1 : Math.max(1, c.f);
      const s0 = step();
      const ranks: number[] = [];
      for (let i = 0; i < Math.min(k, c.size); i++) ranks.push(other(ranks));
      return ranks.map((r, i) => ({ rank: r, atStep: s0 + i, restartAfterMs: 20 }));
    }
    case "near-checkpoint":
      return [{ rank: rank(), when: rng.next() < 0.5 ? "before-checkpoint" : "after-checkpoint", nth: nth() }];
    case "near-flush":
      return [{ rank: rank(), when: rng.next() < 0.5 ? "before-flush" : "after-flush", nth: rng.int(1, 8) }];
    case "near-output":
      return [{ rank: rank(), when: rng.next() < 0.5 ? "before-output" : "after-output", nth: rng.int(1, 2) }];
    case "holder": {
      // A rank crashes after receiving a lot (it holds determinants / its peers' messages), then one of its senders.
      const r = rank();
      return [
        { rank: r, atDelivery: rng.int(Math.max(1, Math.floor(c.deliveries / 3)), Math.max(1, Math.floor(c.deliveries * 0.8))) },
        { rank: other([r]), atStep: step() },
      ];
    }
  }
}

/** A short human description of a crash's trigger. */
export function triggerOf(s: CrashSpec): string {
  if ("atStep" in s) return `step ${s.atStep}`;
  if ("atTime" in s) return `t=${s.atTime}ms`;
  if ("atDelivery" in s) return `delivery ${s.atDelivery}`;
  return `${s.when}${s.nth !== undefined ? ` #${s.nth}` : ""}`;
}
