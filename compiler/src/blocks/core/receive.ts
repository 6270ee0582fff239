/**
 * Core: the receive side of every channel. Duplicate suppression (a message
 * with ssn ≤ delivered[from] was already delivered, possibly before a crash
 * of either side: discard it) and hold-back (keep out-of-order and
 * not-yet-deliverable messages keyed by ssn, so each channel delivers ssn
 * 1, 2, 3, ... exactly once). Last in the onReceive chain: filters run first.
 *
 * With `core.divergence` (pessimistic and causal logging: no process that
 * did not fail ever rolls back), a dropped duplicate of a delivered message
 * goes to `host.duplicate` first, which fails the job if a recovering sender
 * regenerated it with other contents (non-determinism in the application,
 * runtime-core/src/host/divergence.ts). Under checkpoint-only and optimistic
 * protocols an orphan's regenerated message may legitimately differ (the
 * receiver rolls back), so they do not check.
 */
import { param } from "../params.js";
import { Held, type InMsg } from "@egida/runtime-core/protocol-lib";
import type { CheckpointEv, Kernel, RecvEv, RestoreEv } from "../hooks.js";

type K = Kernel & Fields;

export interface Fields {
  /** Highest ssn delivered per source (the paper's "delivered" vector). Part of every checkpoint. */
  delivered: Uint32Array;
  /** Held-back messages per source, by ssn (a one-message slot before a Map: protocol-lib held). */
  held: Held<InMsg>[];
  /** Arrival counter (live delivery follows arrival order across channels). */
  arrivals: number;
  /** Deliveries so far: the last delivery sequence number (desn). Part of every checkpoint. */
  rsn: number;
}

export function init(s: K): void {
  s.delivered = new Uint32Array(s.host.size);
  s.held = [];
  for (let i = 0; i < s.host.size; i++) s.held.push(new Held());
  s.arrivals = 0;
  s.rsn = 0;
}

export function onReceive(s: K, ev: RecvEv): void {
  if (param<boolean>("core.divergence") && ev.ssn <= s.delivered[ev.from]!) s.host.duplicate?.(ev.from, ev.ssn, ev.payload);
  const q = s.held[ev.from]!;
  if (ev.ssn > s.delivered[ev.from]! && !q.has(ev.ssn)) {
    // The event is the held message (RecvEv.arrival): no second object per message.
    ev.arrival = ++s.arrivals;
    q.set(ev.ssn, ev);
    void s.onPump({ reason: 1 });
  }
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  ev.state["core.delivered"] = ev.delivered;
  ev.state["core.rsn"] = ev.rsn;
}

export function onRestore(s: K, ev: RestoreEv): void {
  s.delivered = (ev.state["core.delivered"] as Uint32Array).slice();
  s.rsn = ev.state["core.rsn"] as number;
  // Held messages at or below the restored vector are duplicates now.
  for (let j = 0; j < s.host.size; j++) {
    for (const k of s.held[j]!.keys()) if (k <= s.delivered[j]!) s.held[j]!.delete(k);
  }
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Duplicate suppression and per-channel FIFO hold-back of received application frames; divergence check on a dropped duplicate.",
  implements: [{ module: "EventHandler" }],
  params: { "core.divergence": "boolean" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/ssn.ts"] },
    // every block adds its state before the store writes it (last)
    onCheckpoint: { after: ["core/ssn.ts"] },
    // state comes back in the order it was added
    onRestore: { after: ["core/ssn.ts"] },
  },
  owns: {
    state: ["core.delivered", "core.rsn"],
  },
};
