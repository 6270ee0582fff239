/**
 * Checkpoint (co-ordinated): rank 0, the initiator, runs the checkpoint
 * timer; each tick starts snapshot k = its index + 1 (ckpt-only/rounds.ts
 * `onCheckpointTimer`: rank 0 checkpoints and sends the POLL(k) marker;
 * every process checkpoints with index k before delivering any message sent
 * after a checkpoint k, ckpt-only/index-pb.ts). No other process has a timer.
 */
import type { Kernel, StartEv } from "../hooks.js";
import { param } from "../params.js";

type K = Kernel & Fields;

export interface Fields {
  stopCkptTimer: (() => void) | null;
}

export function init(s: K): void {
  s.stopCkptTimer = null;
}

export async function onLive(s: K, _ev: StartEv): Promise<void> {
  if (s.host.rank === 0) {
    s.stopCkptTimer = s.host.timers.every(param<number>("ckpt.intervalMs"), () => {
      s.onCheckpointTimer({ now: s.host.timers.now() });
    });
  }
}

export async function onStop(s: K, _ev: StartEv): Promise<void> {
  if (s.stopCkptTimer !== null) s.stopCkptTimer();
}
