/**
 * The live delivery choice shared by the delivery pumps (not a block:
 * imported by value by core/pump.ts and ckpt-only/pump.ts): among the
 * channels whose next message in ssn order has arrived, take the one that
 * arrived first, so live delivery follows arrival order and each channel
 * stays in ssn order.
 */
import type { InMsg, K } from "../kernel.js";

/** Removes and returns the earliest-arrived deliverable message, or undefined when none is deliverable. */
export function takeNextLive(s: K): InMsg | undefined {
  let best = -1;
  let bestArrival = Infinity;
  for (let j = 0; j < s.host.size; j++) {
    const m = s.held[j]!.get(s.delivered[j]! + 1);
    if (m !== undefined && m.arrival < bestArrival) {
      best = j;
      bestArrival = m.arrival;
    }
  }
  if (best < 0) return undefined;
  const key = s.delivered[best]! + 1;
  const m = s.held[best]!.get(key)!;
  s.held[best]!.delete(key);
  return m;
}
