/**
 * Core: output numbering. Each `write` gets the next per-rank seq; a
 * recovering process regenerates the same outputs with the same seqs, which
 * the environment's idempotent sink drops as exact duplicates. First in the
 * onWrite chain (the output-commit blocks run between it and core/output-emit).
 */
import type { CheckpointEv, Kernel, RestoreEv, WriteEv } from "../hooks.js";

type K = Kernel & Fields;

export interface Fields {
  outSeq: number;
}

export function init(s: K): void {
  s.outSeq = 0;
}

export async function onWrite(s: K, ev: WriteEv): Promise<void> {
  ev.seq = ++s.outSeq;
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  ev.state["core.outSeq"] = s.outSeq;
}

export function onRestore(s: K, ev: RestoreEv): void {
  s.outSeq = ev.state["core.outSeq"] as number;
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Output numbering, so the runtime's sink releases each output once.",
  implements: [{ module: "EventHandler" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/retransmit.ts"] },
    // every block adds its state before the store writes it (last)
    onCheckpoint: { after: ["core/receive.ts", "core/retransmit.ts"] },
    // state comes back in the order it was added
    onRestore: { after: ["core/receive.ts", "core/retransmit.ts"] },
  },
  owns: {
    state: ["core.outSeq"],
  },
};
