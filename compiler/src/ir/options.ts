/**
 * Defaults and limits of the protocol options (the extensions the paper
 * leaves open). The JSON Schema's bounds mirror these.
 */
import type { ProtocolOptions } from "./types.js";

export const DEFAULT_OPTIONS: ProtocolOptions = {
  f: 1,
  checkpointIntervalMs: 2000,
  flushIntervalMs: 100,
};

export const F_MIN = 1;
export const F_MAX = 255;
export const INTERVAL_MIN_MS = 1;
/** One day: a longer timer is almost certainly a unit mistake. */
export const INTERVAL_MAX_MS = 86_400_000;

export const UNIT_MS: Readonly<Record<"ms" | "s" | "min", number>> = { ms: 1, s: 1000, min: 60_000 };
