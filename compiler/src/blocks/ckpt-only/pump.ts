/**
 * Delivery pump of the checkpoint-only protocols (replaces core/pump: there
 * is no replay; instead a recovery round must be able to *hold* a live
 * process between deliveries, restore a checkpoint under it and let it go).
 *
 * The only caller of the onDeliver chain and the only place periodic /
 * marker checkpoints are captured, so both happen strictly between
 * deliveries. Live: deliver the earliest-arrived deliverable message (per
 * channel in ssn order). `cpHold` stops it at the next gap; `cpIdle` is
 * called when the loop has stopped (the round then knows no delivery is in
 * progress).
 */
import type { K } from "../kernel.js";
import type { PumpEv } from "../hooks.js";
import { takeNextLive } from "../core/next-live.js";
import { pumpFailed } from "../core/pump-failed.js";
import { MODE_LIVE, MODE_STARTING } from "../tags.js";

export interface Fields {
  mode: number;
  pumping: boolean;
  /** A checkpoint was requested (timer, marker); taken at the next gap between deliveries. */
  ckptWanted: boolean;
  /** A recovery round holds this process: no delivery, no checkpoint. */
  cpHold: boolean;
  /** Called once the pump loop has stopped (set by a round waiting for quiescence). */
  cpIdle: (() => void) | null;
}

export function init(s: K): void {
  s.mode = MODE_STARTING;
  s.pumping = false;
  s.ckptWanted = false;
  s.cpHold = false;
  s.cpIdle = null;
}

export async function onPump(s: K, _ev: PumpEv): Promise<void> {
  if (!s.pumping && s.mode === MODE_LIVE) {
    s.pumping = true;
    let go = true;
    let failed = false;
    try {
      while (go && !s.cpHold) {
        if (s.ckptWanted) {
          s.ckptWanted = false;
          await s.onCheckpoint({ index: 0, app: s.host.captureAppState(), state: {}, delivered: s.delivered.slice(), rsn: s.rsn });
        } else {
          const m = takeNextLive(s);
          if (m !== undefined) await s.onDeliver({ msg: m, replay: false, rsn: s.rsn + 1, pbPos: 3 });
          else go = false;
        }
      }
    } catch (e) {
      // Nobody awaits the pump: report the failure (core/pump-failed.ts) and leave the pump claimed.
      pumpFailed(s, e);
      failed = true;
    }
    if (!failed) s.pumping = false;
  }
  if (!s.pumping && s.cpIdle !== null) {
    const idle = s.cpIdle;
    s.cpIdle = null;
    idle();
  }
}
