/**
 * Pessimistic logging by the log's durable watermark: a determinant is
 * appended without waiting (log/event-log, log/read-log), the application
 * runs at once, and what could reveal it to the outside waits instead — a
 * send (onSend below marks it `held`: core/transmit or log/send-log, later in
 * the chain, leave it to onRelease) and an output (onWrite) leave only once a
 * sync covering every record appended before them has completed.
 *
 * The pessimistic condition is about what leaves the process, not about
 * deliveries: no message or output that depends on a determinant exists
 * outside the process before the determinant is stable, so a crash never
 * creates an orphan. State inside the process that depends on an unsynced
 * record dies with it; recovery replays the durable prefix (a read of a lost
 * step is produced afresh: log/read-log forgets it, `read.lostTail`).
 *
 * Group commit: one sync round is in flight at a time; it starts a microtask
 * after the first gated send or output (so a pump run that delivers several
 * messages at once rides one round) and covers every record appended before
 * it started; sends and outputs gated meanwhile wait for the next round. So
 * at most one fdatasync per log per batch of deliveries that precedes a send
 * or an output, instead of one per delivery.
 *
 * Held sends are not in the retransmission buffer until they leave (a
 * retransmission to a recovering peer must not leak them), and a checkpoint
 * taken meanwhile keeps them with the buffer's messages: its app state has
 * sent them, and a durable checkpoint makes what it contains stable.
 *
 * Receiver-based logging (`wm.message`): a message whose record a round made
 * durable is stable here (core/retransmit tells its sender on the flush timer).
 */
import type { CheckpointEv, Kernel, SendEv, StartEv, WriteEv } from "../hooks.js";
import { param } from "../params.js";
import { wmAfter, wmHold, type WmHeld, type WmWaiter, type WatermarkState } from "./gate.js";
import type { Fields as LogEventLog } from "./event-log.js";
import type { Fields as LogReadLog } from "./read-log.js";
import type { Fields as CoreSsn } from "../core/ssn.js";
import type { Fields as CoreReceive } from "../core/receive.js";
import type { Fields as CoreRetransmit } from "../core/retransmit.js";
import { type OutPack, outPackAppend } from "@egida/runtime-core/protocol-lib";

type K = Kernel & Fields & LogEventLog & LogReadLog & CoreSsn & CoreReceive & CoreRetransmit;

export interface Fields extends WatermarkState {
  /** Held sends, in send order. */
  wmQ: WmHeld[];
  wmWaiters: WmWaiter[];
  /** Records with lsn below these are durable (event log, read log). */
  wmEv: number;
  wmRd: number;
  /** A round is scheduled or in flight. */
  wmBusy: boolean;
  /** Receiver-based logging: a durable record makes its message stable here. */
  wmMsg: boolean;
  /** Outputs waiting for the watermark, and onFinish's waiters for none to be left. */
  wmWriting: number;
  wmIdle: (() => void)[];
}

export function init(s: K): void {
  s.wmQ = [];
  s.wmWaiters = [];
  s.wmEv = 0;
  s.wmRd = 0;
  s.wmBusy = false;
  s.wmMsg = false;
  s.wmWriting = 0;
  s.wmIdle = [];
}

export async function onOpen(s: K, _ev: StartEv): Promise<void> {
  s.wmMsg = param<boolean>("wm.message");
  // What the logs hold when opened is on their medium already.
  s.wmEv = s.evLog!.nextLsn;
  s.wmRd = s.rdLog?.nextLsn ?? 0;
}

export function onSend(s: K, ev: SendEv): void {
  // After every piggyback writer (core/ssn, checkpoint/schedule), before core/transmit or log/send-log.
  ev.held = wmHold(s, ev);
}

export async function onWrite(s: K, _ev: WriteEv): Promise<void> {
  // The output depends on every record appended so far.
  s.wmWriting++;
  try {
    await wmAfter(s);
  } finally {
    s.wmWriting--;
    if (s.wmWriting === 0) for (const idle of s.wmIdle.splice(0)) idle();
  }
}

/**
 * Every rank is done: outputs written before now may still wait for a round (the job must not stop
 * before they are released). Resolves once none waits and the last released one reached core/output-emit.
 */
export async function onFinish(s: K, _ev: StartEv): Promise<void> {
  for (;;) {
    // A tick first: a write issued just before done() enters the chain, and an output just released
    // reaches core/output-emit (the chain's continuation is microtasks only).
    await new Promise<void>((resolve) => {
      s.host.timers.after(0, resolve);
    });
    if (s.wmWriting === 0) break;
    await new Promise<void>((resolve) => {
      s.wmIdle.push(resolve);
    });
  }
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  // The app state in the checkpoint has sent the held messages: keep them with the buffer's (core/retransmit put it in
  // the state before this block; per destination they follow the buffer's, in ssn order).
  if (s.wmQ.length > 0) outPackAppend(ev.state["core.outq"] as OutPack[], s.wmQ);
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Pessimistic by the durable watermark: a send or output leaves once a sync covers every log record before it.",
  implements: [{ module: "HowToLog" }, { variable: "how-to-log", value: "synchronously" }],
  params: { "wm.message": "boolean" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["log/read-log.ts"] },
    // stores are opened and read back before onStart may replay
    onOpen: { after: ["log/read-log.ts"] },
    // piggyback words are appended in chain order; core/ssn first, core/transmit (or log/send-log) last
    onSend: { after: ["checkpoint/schedule.ts", "core/ssn.ts"] },
    // numbered (core/output-seq), committed, then released (core/output-emit)
    onWrite: { after: ["core/output-seq.ts"], before: ["core/output-emit.ts"] },
    // every block adds its state before the store writes it (last)
    onCheckpoint: { after: ["log/read-log.ts"] },
  },
  owns: {},
  // the blocks whose fields its K reads
  requires: ["core/receive.ts", "core/retransmit.ts", "core/ssn.ts", "log/event-log.ts", "log/read-log.ts"],
};
