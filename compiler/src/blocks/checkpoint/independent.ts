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
