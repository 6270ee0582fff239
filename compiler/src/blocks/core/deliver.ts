/**
 * Core: hand the message to the application. Last in the onDeliver chain:
 * every block before it (forced checkpoints, determinant creation, logging,
 * piggyback processing) has completed, so a synchronous logger's record is
 * durable before the application sees the message (pessimistic logging).
 *
 * Synchronous fast path: when the application's handler settled at once
 * (`deliver` returned `host.settled`) nothing is awaited, and `s.dlvSync`
 * tells the pump that the chain ran to here without an await, so it need not
 * await the chain's promise either (core/pump.ts, ckpt-only/pump.ts). The
 * pump clears the flag before each delivery; a block after this one that
 * awaits must clear it again before its first await (optimistic/rollback).
 *
 * Not async (onDeliver is `async: "either"`): it returns the handler's
 * promise for the chain to wait on, so a chain of blocks that do not await
 * (after parameter folding) is emitted inline as a plain function and a
 * delivery makes no promise of its own.
 */
import type { DeliverEv, Kernel } from "../hooks.js";
import { param } from "../params.js";
import type { Fields as CoreReceive } from "./receive.js";
import type { PumpState } from "./pump-state.js";

type K = Kernel & Fields & CoreReceive & PumpState;

export interface Fields {}

export function init(_s: K): void {}

/** The two `deliver` options, shared: no object per delivery. */
const LIVE_DELIVERY = Object.freeze({ replay: false });
const REPLAY_DELIVERY = Object.freeze({ replay: true });

export function onDeliver(s: K, ev: DeliverEv): Promise<void> | void {
  const m = ev.msg;
  s.delivered[m.from] = m.ssn;
  s.rsn = ev.rsn;
  // The ssn lets the host remember the message for non-determinism detection (core/receive);
  // without it (checkpoint-only, optimistic) the host remembers nothing.
  const r = param<boolean>("core.divergence")
    ? s.host.deliver(m.from, m.payload, ev.replay ? REPLAY_DELIVERY : LIVE_DELIVERY, m.ssn)
    : s.host.deliver(m.from, m.payload, ev.replay ? REPLAY_DELIVERY : LIVE_DELIVERY);
  if (r !== s.host.settled) return r;
  s.dlvSync = true;
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Hand the message to the application (last in onDeliver).",
  implements: [{ module: "EventHandler" }],
  params: { "core.divergence": "boolean" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/recovery.ts"] },
  },
  owns: {},
  // the blocks whose fields its K reads
  requires: ["core/receive.ts"],
};
