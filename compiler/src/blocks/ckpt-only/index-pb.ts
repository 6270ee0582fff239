/**
 * PiggybackCheckpointing for the checkpoint-only protocols: every message
 * carries [epoch, index] after the ssn (piggyback words 1 and 2).
 *
 * - epoch: the recovery round the sender's state belongs to. A message of
 *   another epoch is dropped on arrival (acceptReceive): an older one may
 *   have been sent from a state that was rolled back (an orphan's cause);
 *   whatever of it is still valid is resent, re-stamped, from the sender's
 *   retransmission buffer after the round (ckpt-only/rounds.ts).
 * - index: `Piggyback checkpoint counter`. Coordinated: the sender's
 *   snapshot number; communication-induced: its BCS index; a message with a
 *   higher index forces a checkpoint with that index before it is delivered
 *   (`cp.force`). Independent: the key of the checkpoint that starts the
 *   sender's current interval; the receiver records it as a dependency of its
 *   own current interval (rollback propagation, ckpt-only/line.ts).
 */
import type { DeliverEv, Kernel, RecvEv, SendEv } from "../hooks.js";
import { param } from "../params.js";
import type { Fields as CoreSsn } from "../core/ssn.js";
import type { RoundPhase } from "./round-phase.js";
import type { Fields as CoreReceive } from "../core/receive.js";

type K = Kernel & Fields & CoreSsn & RoundPhase & CoreReceive;

export interface Fields {
  /** Epoch of this process's state (the last recovery round it rolled back in; 0 before any). */
  cpEpoch: number;
  /** Current protocol index (snapshot number / BCS index) = the index of the latest checkpoint. */
  cpIdx: number;
  /** Storage key of the checkpoint that starts the current interval (0: the initial state). */
  cpKey: number;
  /** Highest index of a message delivered so far (-1: none). */
  cpMaxIn: number;
  /** Per sender, the highest sender interval of a message delivered in the current interval (-1: none). */
  cpDeps: number[];
  /** Index the next checkpoint must get (-1: the current index + 1). */
  cpWantIdx: number;
}

export function init(s: K): void {
  s.cpEpoch = 0;
  s.cpIdx = 0;
  s.cpKey = 0;
  s.cpMaxIn = -1;
  s.cpDeps = new Array<number>(s.host.size).fill(-1);
  s.cpWantIdx = -1;
}

export function onSend(s: K, ev: SendEv): void {
  s.pbw[ev.pbLen++] = s.cpEpoch;
  s.pbw[ev.pbLen++] = param<boolean>("cp.byKey") ? s.cpKey : s.cpIdx;
}

export function acceptReceive(s: K, ev: RecvEv): boolean {
  // Not yet restored, paused for a round, or another epoch: drop (the sender resends what is valid).
  return s.cpLive && s.cpPhase !== 1 && ev.pb[1] === s.cpEpoch;
}

export async function onDeliver(s: K, ev: DeliverEv): Promise<void> {
  const x = ev.msg.pb[2]!;
  if (param<boolean>("cp.force") && x > s.cpIdx) {
    // Index-based rule: checkpoint with the message's index before the application sees it.
    s.cpWantIdx = x;
    await s.onCheckpoint({ index: 0, app: s.host.captureAppState(), state: {}, delivered: s.delivered.slice(), rsn: s.rsn });
  }
  if (x > s.cpMaxIn) s.cpMaxIn = x;
  if (x > s.cpDeps[ev.msg.from]!) s.cpDeps[ev.msg.from] = x;
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Checkpoint-only piggyback [epoch, index]: stale epochs dropped, forced checkpoints, dependencies recorded.",
  implements: [{ module: "PiggybackCheckpointing" }, { variable: "pb-value", value: "checkpoint-counter" }, { variable: "ckpt-proto", value: "coordinated" }, { variable: "ckpt-proto", value: "communication-induced" }, { variable: "ckpt-proto", value: "independent" }],
  params: { "cp.byKey": "boolean", "cp.force": "boolean" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/output-seq.ts"] },
    // piggyback words are appended in chain order; core/ssn first, core/transmit (or log/send-log) last
    onSend: { after: ["core/ssn.ts"], before: ["core/transmit.ts"] },
    // forced checkpoints and determinant records before core/deliver hands the message over
    onDeliver: { before: ["core/deliver.ts"] },
  },
  owns: {
    wire: ["piggyback after the ssn: [epoch, checkpoint index or sender interval]"],
  },
  // the blocks whose fields its K reads (RoundPhase is ckpt-only/rounds's)
  requires: ["ckpt-only/rounds.ts", "core/receive.ts", "core/ssn.ts"],
};
