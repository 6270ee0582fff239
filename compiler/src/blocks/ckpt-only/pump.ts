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
import type { Kernel, PumpEv } from "../hooks.js";
import { takeNextLive } from "../core/next-live.js";
import { pumpFailed } from "../core/pump-failed.js";
import { MODE_LIVE, MODE_STARTING } from "../tags.js";
import type { Fields as CoreReceive } from "../core/receive.js";
import type { PumpState } from "../core/pump-state.js";

type K = Kernel & Fields & CoreReceive;

export interface Fields extends PumpState {
  mode: number;
  pumping: boolean;
  /** A checkpoint was requested (timer, marker); taken at the next gap between deliveries. */
  ckptWanted: boolean;
  /** A recovery round holds this process: no delivery, no checkpoint. */
  cpHold: boolean;
  /** Called once the pump loop has stopped (set by a round waiting for quiescence). */
  cpIdle: (() => void) | null;
  /** Set by the onDeliver chain's end (core/deliver) when it ran without an await: the pump skips awaiting it. */
  dlvSync: boolean;
}

export function init(s: K): void {
  s.mode = MODE_STARTING;
  s.pumping = false;
  s.ckptWanted = false;
  s.cpHold = false;
  s.cpIdle = null;
  s.dlvSync = false;
}

/**
 * Synchronous entry: claims the pump and runs it (cpPumpRun) in this call as
 * long as no step has to wait, so an in-order delivery whose onDeliver chain
 * never awaits costs no promise and no microtask hop. Callers do not await it.
 */
export function onPump(s: K, _ev: PumpEv): void {
  if (!s.pumping && s.mode === MODE_LIVE) {
    s.pumping = true;
    cpPumpRun(s);
  } else cpPumpIdle(s);
}

/**
 * The pump loop, from the claimed state. A step that is still pending when
 * its call returns (a checkpoint, or a delivery whose chain awaited: s.dlvSync
 * is still false) hands the rest of the loop to cpPumpAfter, which resumes
 * here once it settled; a rejection ends the pump there (core/pump-failed.ts).
 */
function cpPumpRun(s: K): void {
  try {
    while (!s.cpHold) {
      let p: Promise<void> | void;
      if (s.ckptWanted) {
        s.ckptWanted = false;
        p = s.onCheckpoint({ index: 0, app: s.host.captureAppState(), state: {}, delivered: s.delivered.slice(), rsn: s.rsn });
      } else {
        const m = takeNextLive(s);
        if (m === undefined) break;
        // Fast path: a chain that ran to its end without an await is done (its promise is resolved).
        s.dlvSync = false;
        p = s.onDeliver({ msg: m, replay: false, rsn: s.rsn + 1, pbPos: 3 });
        if (s.dlvSync) continue;
      }
      void cpPumpAfter(s, p);
      return;
    }
  } catch (e) {
    // Nobody awaits the pump: report the failure (core/pump-failed.ts) and leave the pump claimed.
    pumpFailed(s, e);
    return;
  }
  s.pumping = false;
  cpPumpIdle(s);
}

/** The pump waits for a pending step, then goes on (still claimed). */
async function cpPumpAfter(s: K, p: Promise<void> | void): Promise<void> {
  try {
    await p;
  } catch (e) {
    pumpFailed(s, e);
    return;
  }
  cpPumpRun(s);
}

/** The pump is not running: tell a round waiting for quiescence. */
function cpPumpIdle(s: K): void {
  if (!s.pumping && s.cpIdle !== null) {
    const idle = s.cpIdle;
    s.cpIdle = null;
    idle();
  }
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Checkpoint-only pump: one delivery at a time, checkpoints between deliveries, held during recovery rounds.",
  implements: [{ module: "EventHandler" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/receive.ts"], before: ["core/output-seq.ts"] },
  },
  owns: {},
  // the blocks whose fields its K reads
  requires: ["core/receive.ts"],
};
