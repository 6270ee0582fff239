/**
 * Optimistic logging: job end (Protocol.finish, the launchers call it once
 * every rank is done). An application may call `ctx.write` without awaiting
 * it and then `ctx.done()`: its output is still in the co-ordinated output
 * commit (optimistic/commit: flush, then every process it depends on makes
 * that state stable), and stopping the ranks now would lose it. So finish
 * resolves only when this process is quiet: no write between
 * optimistic/commit and the end of the onWrite chain (this block is after
 * core/output-emit, so a write counts as finished once it was emitted, or
 * dropped by an orphan), no rollback wanted or running, and not replaying.
 * Peers keep answering commit requests meanwhile: the launcher stops no rank
 * before every rank's finish resolved. Checked when a write finishes and on
 * the flush timer (a rollback or replay ends between two ticks).
 */
import type { Kernel, StartEv, TimerEv, WriteEv } from "../hooks.js";
import { optQuiet } from "./quiet.js";
import type { Fields as OptCommit } from "./commit.js";
import type { Fields as OptClock } from "./clock.js";
import type { PumpState } from "../core/pump-state.js";

type K = Kernel & Fields & OptCommit & OptClock & PumpState;

export interface Fields {}

export function init(_s: K): void {}

export async function onWrite(s: K, _ev: WriteEv): Promise<void> {
  s.optWriting--;
  finishIfQuiet(s);
}

export async function onFinish(s: K, _ev: StartEv): Promise<void> {
  await new Promise<void>((resolve) => {
    s.optFinWait.push(resolve);
    finishIfQuiet(s);
  });
}

export function onFlushTimer(s: K, _ev: TimerEv): void {
  finishIfQuiet(s);
}

function finishIfQuiet(s: K): void {
  if (s.optFinWait.length > 0 && optQuiet(s)) {
    const q = s.optFinWait;
    s.optFinWait = [];
    for (const done of q) done();
  }
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "At job end, wait until every pending output commit is released or dropped and no rollback is pending.",
  implements: [{ module: "HowToOutputCommit" }, { variable: "output-commit-proto", value: "coordinated" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/output-emit.ts"], before: ["core/read.ts"] },
    // after core/output-emit: the write is through, so finish stops waiting for it
    onWrite: { after: ["core/output-emit.ts"] },
    // syncs before the blocks that announce what they made stable
    onFlushTimer: { after: ["optimistic/orphan.ts"] },
  },
  owns: {},
  // the blocks whose fields its K reads
  requires: ["optimistic/clock.ts", "optimistic/commit.ts"],
};
