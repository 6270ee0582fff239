/**
 * When an optimistic process may finish (not a block: imported by value by
 * optimistic/finish and optimistic/pull): no write in its output commit, no
 * rollback wanted or running, not replaying.
 */
import type { Kernel } from "../hooks.js";
import { MODE_LIVE } from "../tags.js";
import type { Fields as OptCommit } from "./commit.js";
import type { Fields as OptClock } from "./clock.js";
import type { PumpState } from "../core/pump-state.js";

type K = Kernel & OptCommit & OptClock & PumpState;

export function optQuiet(s: K): boolean {
  return s.optWriting === 0 && !s.optRbWanted && !s.optRbRunning && s.mode === MODE_LIVE;
}
