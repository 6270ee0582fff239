/**
 * The live delivery choice shared by the delivery pumps (not a block:
 * imported by value by core/pump.ts and ckpt-only/pump.ts): among the
 * channels whose next message in ssn order has arrived, take the one that
 * arrived first, so live delivery follows arrival order and each channel
 * stays in ssn order.
 */
import type { InMsg } from "@egida/runtime-core/protocol-lib";
import type { Kernel } from "../hooks.js";
import type { Fields as CoreReceive } from "./receive.js";

type K = Kernel & CoreReceive;

/** Removes and returns the earliest-arrived deliverable message, or undefined when none is deliverable. */
export function takeNextLive(s: K): InMsg | undefined {
  let best: InMsg | undefined;
  for (let j = 0; j < s.host.size; j++) {
    const m = s.held[j]!.get(s.delivered[j]! + 1);
    if (m !== undefined && (best === undefined || m.arrival < best.arrival)) best = m;
  }
  if (best !== undefined) s.held[best.from]!.delete(best.ssn);
  return best;
}
