/**
 * Optimistic logging: `On rollback: Log determinant, message on <storage>`.
 * First in the onRollback chain: before an orphan discards anything, its
 * delivered determinants and message contents (buffered by the asynchronous
 * log) are made stable, so the non-orphan prefix it replays and the
 * non-orphan messages it delivers again survive a crash during the rollback.
 */
import type { Kernel, RollbackEv } from "../hooks.js";
import type { Fields as OptAsyncLog } from "./async-log.js";

type K = Kernel & Fields & OptAsyncLog;

export interface Fields {}

export function init(_s: K): void {}

export async function onRollback(s: K, _ev: RollbackEv): Promise<void> {
  await s.optLog!.sync();
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "`On rollback: Log`: make the delivered determinants and messages stable before rolling back.",
  implements: [{ module: "LogEventInfo" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["optimistic/commit.ts"], before: ["core/recovery.ts"] },
  },
  owns: {},
  // the blocks whose fields its K reads
  requires: ["optimistic/async-log.ts"],
};
