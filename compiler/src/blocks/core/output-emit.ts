/** Core: release a committed output to the environment. Last in the onWrite chain. */
import type { Kernel, WriteEv } from "../hooks.js";

type K = Kernel & Fields;

export interface Fields {}

export function init(_s: K): void {}

export async function onWrite(s: K, ev: WriteEv): Promise<void> {
  // A commit block set drop: the output must never leave (an orphan's, optimistic/commit).
  if (ev.drop !== true) {
    s.host.trace({ type: "output", rank: s.host.rank, seq: ev.seq });
    await s.host.emitOutput(ev.seq, ev.payload);
  }
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Release an output to the runtime's sink (last in onWrite).",
  implements: [{ module: "EventHandler" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/deliver.ts", "core/transmit.ts"] },
  },
  owns: {},
};
