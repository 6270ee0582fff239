/**
 * When an optimistic process may finish (not a block: imported by value by
 * optimistic/finish and optimistic/pull): no write in its output commit, no
 * rollback wanted or running, not replaying.
 */
import type { K } from "../kernel.js";
import { MODE_LIVE } from "../tags.js";

export function optQuiet(s: K): boolean {
  return s.optWriting === 0 && !s.optRbWanted && !s.optRbRunning && s.mode === MODE_LIVE;
}
