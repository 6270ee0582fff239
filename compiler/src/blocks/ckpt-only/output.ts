/**
 * HowToOutputCommit for the checkpoint-only protocols: without logs, a
 * rolled-back process may regenerate output number `seq` with different
 * contents, so an output leaves only once the state that produced it is
 * covered by a committed line (no recovery ever goes below it: for
 * coordinated checkpointing, once the next snapshot is complete). Until
 * then it waits in `cpOut`, which is part of every checkpoint (an output
 * captured by a checkpoint that later becomes committed is released even
 * if the process crashed since). `write` resolves at once: the application
 * must not block on a commit that needs its next checkpoint (which is only
 * taken between deliveries). Replaces core/output-emit.
 */
import type { CheckpointEv, Kernel, RestoreEv, WriteEv } from "../hooks.js";

type K = Kernel & Fields;

export interface Fields {
  /** Outputs not yet released, in seq order. */
  cpOut: { seq: number; payload: Uint8Array }[];
  /** Highest seq released. */
  cpReleased: number;
}

export function init(s: K): void {
  s.cpOut = [];
  s.cpReleased = 0;
}

export async function onWrite(s: K, ev: WriteEv): Promise<void> {
  s.cpOut.push({ seq: ev.seq, payload: ev.payload });
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  ev.state["cp.out"] = s.cpOut.slice();
}

export function onRestore(s: K, ev: RestoreEv): void {
  s.cpOut = (ev.state["cp.out"] as { seq: number; payload: Uint8Array }[]).slice();
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Checkpoint-only output commit: an output leaves once a committed recovery line covers it.",
  implements: [{ module: "HowToOutputCommit" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["ckpt-only/index-pb.ts"] },
    // numbered (core/output-seq), committed, then released (core/output-emit)
    onWrite: { after: ["core/output-seq.ts"] },
    // every block adds its state before the store writes it (last)
    onCheckpoint: { after: ["core/output-seq.ts"] },
    // state comes back in the order it was added
    onRestore: { after: ["core/output-seq.ts"] },
  },
  owns: {
    state: ["cp.out"],
  },
};
