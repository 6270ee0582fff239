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

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Co-ordinated checkpointing: rank 0 starts a snapshot on the checkpoint timer.",
  implements: [{ module: "Checkpoint" }, { variable: "ckpt-proto", value: "coordinated" }],
  params: { "ckpt.intervalMs": "number" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["ckpt-only/output.ts", "log/send-log.ts"], before: ["core/recovery.ts"] },
    // logs and trackers go live before the timers start and core/recovery switches to live mode
    onLive: { after: ["collect/stable-log.ts"], before: ["core/recovery.ts"] },
    // timers stopped in chain order
    onStop: { after: ["core/timers.ts"] },
  },
  owns: {},
};
