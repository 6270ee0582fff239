/**
 * Core: the delivery pump, the only place that calls host.deliver (through
 * the onDeliver chain) and the only place checkpoints are captured, so both
 * happen strictly between deliveries (the SPI requires it).
 *
 * Live mode: among the sources whose next message (delivered[j] + 1) is
 * held, deliver the one that arrived first. Replay mode: follow the replay
 * plan (the sources of the logged determinants in rsn order, filled by a
 * CollectDeterminants block); wait when the planned message has not arrived
 * yet (sender-based logging: senders resend it). When the plan is exhausted
 * the process is live again (core/recovery resolves).
 */
import type { Kernel, PumpEv } from "../hooks.js";
import { takeNextLive } from "./next-live.js";
import { pumpFailed } from "./pump-failed.js";
import { MODE_LIVE, MODE_REPLAY, MODE_STARTING } from "../tags.js";
import type { Fields as CoreReceive } from "./receive.js";
import type { PumpState } from "./pump-state.js";

type K = Kernel & Fields & CoreReceive;

export interface Fields extends PumpState {
  mode: number;
  pumping: boolean;
  /** A checkpoint was requested (timer, forced, marker); taken at the next gap between deliveries. */
  ckptWanted: boolean;
  /** Replay plan: sources and ssns of the deliveries to re-execute, in rsn order. */
  planSrc: number[];
  planSsn: number[];
  planPos: number;
  /** Resolves onRecover once the plan is replayed. */
  replayDone: (() => void) | null;
  /** Set by the onDeliver chain's end (core/deliver) when it ran without an await: the pump skips awaiting it. */
  dlvSync: boolean;
}

export function init(s: K): void {
  s.mode = MODE_STARTING;
  s.pumping = false;
  s.ckptWanted = false;
  s.planSrc = [];
  s.planSsn = [];
  s.planPos = 0;
  s.replayDone = null;
  s.dlvSync = false;
}

/**
 * Synchronous entry: claims the pump and runs it (pumpRun) in this call as
 * long as no step has to wait, so an in-order delivery whose onDeliver chain
 * never awaits costs no promise and no microtask hop. Callers do not await it.
 */
export function onPump(s: K, _ev: PumpEv): void {
  if (!s.pumping && s.mode !== MODE_STARTING) {
    s.pumping = true;
    pumpRun(s);
  }
}

/**
 * The pump loop, from the claimed state. A step that is still pending when
 * its call returns (a checkpoint, or a delivery whose chain awaited: s.dlvSync
 * is still false) hands the rest of the loop to pumpAfter, which resumes here
 * once it settled; a rejection ends the pump there (core/pump-failed.ts).
 */
function pumpRun(s: K): void {
  try {
    for (;;) {
      if (s.mode === MODE_REPLAY && s.planPos >= s.planSrc.length) {
        s.mode = MODE_LIVE;
        s.planSrc = [];
        s.planSsn = [];
        s.planPos = 0;
        const done = s.replayDone;
        s.replayDone = null;
        if (done !== null) done();
      }
      let p: Promise<void> | void;
      if (s.ckptWanted && s.mode === MODE_LIVE) {
        s.ckptWanted = false;
        p = s.onCheckpoint({
          index: 0,
          app: s.host.captureAppState(),
          state: {},
          delivered: s.delivered.slice(),
          rsn: s.rsn,
        });
      } else if (s.mode === MODE_REPLAY) {
        const j = s.planSrc[s.planPos]!;
        const want = s.delivered[j]! + 1;
        if (s.planSsn[s.planPos]! !== want) {
          s.host.unrecoverable(`replay plan expects ssn ${s.planSsn[s.planPos]} from ${j} but the channel is at ${want - 1}`);
        }
        const m = s.held[j]!.get(want);
        if (m === undefined) break;
        s.held[j]!.delete(want);
        s.planPos++;
        s.dlvSync = false;
        p = s.onDeliver({ msg: m, replay: true, rsn: s.rsn + 1, pbPos: 1 });
        if (s.dlvSync) continue;
      } else {
        const m = takeNextLive(s);
        if (m === undefined) break;
        // Fast path: a chain that ran to its end without an await is done (its promise is resolved).
        s.dlvSync = false;
        p = s.onDeliver({ msg: m, replay: false, rsn: s.rsn + 1, pbPos: 1 });
        if (s.dlvSync) continue;
      }
      void pumpAfter(s, p);
      return;
    }
  } catch (e) {
    // Nobody awaits the pump: report the failure (core/pump-failed.ts) and leave the pump claimed.
    pumpFailed(s, e);
    return;
  }
  s.pumping = false;
}

/** The pump waits for a pending step, then goes on (still claimed). */
async function pumpAfter(s: K, p: Promise<void> | void): Promise<void> {
  try {
    await p;
  } catch (e) {
    pumpFailed(s, e);
    return;
  }
  pumpRun(s);
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "One delivery at a time: live messages in hold-back order, a replay plan in rsn order, checkpoints between deliveries.",
  implements: [{ module: "EventHandler" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/receive.ts"] },
  },
  owns: {},
  // the blocks whose fields its K reads
  requires: ["core/receive.ts"],
};
