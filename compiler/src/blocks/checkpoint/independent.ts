/**
 * Checkpoint (independent): each process checkpoints on its own timer
 * (`checkpoint every <interval>`). The request is served by the pump at the
 * next gap between deliveries; a request while a write is in flight is
 * dropped (the next tick retries).
 */
import type { Kernel, StartEv, TimerEv } from "../hooks.js";
import { param } from "../params.js";
import type { CheckpointStoreState } from "./store-state.js";
import type { PumpState } from "../core/pump-state.js";

type K = Kernel & Fields & CheckpointStoreState & PumpState;

export interface Fields {
  stopCkptTimer: (() => void) | null;
}

export function init(s: K): void {
  s.stopCkptTimer = null;
}

export async function onLive(s: K, _ev: StartEv): Promise<void> {
  s.stopCkptTimer = s.host.timers.every(param<number>("ckpt.intervalMs"), () => {
    s.onCheckpointTimer({ now: s.host.timers.now() });
  });
}

export function onCheckpointTimer(s: K, _ev: TimerEv): void {
  if (!s.ckptWriting) {
    s.ckptWanted = true;
    void s.onPump({ reason: 4 });
  }
}

export async function onStop(s: K, _ev: StartEv): Promise<void> {
  if (s.stopCkptTimer !== null) s.stopCkptTimer();
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "A checkpoint on the local checkpoint timer (independent, or the basic checkpoints of communication-induced).",
  implements: [{ module: "Checkpoint" }, { variable: "ckpt-proto", value: "independent" }, { variable: "ckpt-proto", value: "communication-induced" }],
  params: { "ckpt.intervalMs": "number" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["causal/gather.ts", "ckpt-only/output.ts", "collect/stable-log.ts", "log/read-log.ts", "optimistic/on-rollback-log.ts"], before: ["core/recovery.ts"] },
    // logs and trackers go live before the timers start and core/recovery switches to live mode
    onLive: { after: ["causal/det-log.ts", "collect/stable-log.ts", "log/read-log.ts", "optimistic/orphan.ts"], before: ["core/recovery.ts"] },
    // the timer's block before the blocks that react to it
    onCheckpointTimer: { after: ["checkpoint/schedule.ts"] },
    // timers stopped in chain order
    onStop: { after: ["core/timers.ts"] },
  },
  owns: {},
};
