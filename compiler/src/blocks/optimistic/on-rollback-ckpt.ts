/**
 * Optimistic logging: `On rollback: Take independent checkpoint on <storage>`.
 * First in the onRollback chain: asks for a checkpoint, which the pump takes
 * at its first gap in live mode, i.e. right after the rollback has replayed
 * the kept prefix (core/pump serves `ckptWanted` only when live). It is a
 * committed checkpoint like every optimistic one (optimistic/checkpoint:
 * the restored state's clock made stable everywhere, then written), so a
 * later rollback or crash restarts from there instead of replaying the
 * prefix again, and the log and history before it are dropped.
 */
import type { Kernel, RollbackEv } from "../hooks.js";
import type { PumpState } from "../core/pump-state.js";

type K = Kernel & Fields & PumpState;

export interface Fields {}

export function init(_s: K): void {}

export async function onRollback(s: K, _ev: RollbackEv): Promise<void> {
  s.ckptWanted = true;
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "`On rollback: Take independent checkpoint`: a committed checkpoint right after the rollback's replay.",
  implements: [{ module: "Checkpoint" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["optimistic/commit.ts"], before: ["core/recovery.ts"] },
  },
  owns: {},
};
