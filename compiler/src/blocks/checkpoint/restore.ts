/**
 * Checkpoint (RestoreFromCheckpoint): open the checkpoint store, and on
 * recovery restore the latest checkpoint (application state, then every
 * block's protocol state through the onRestore chain). First in the
 * onRecover chain. Without a checkpoint the application restarts from its
 * initial state in replay mode: here, or (`ckpt.initAfterGather`, causal
 * logging) at the end of causal/gather's round, so that onStart's reads find
 * their gathered values at once.
 */
import type { CheckpointStore } from "@egida/runtime-core/spi";
import { decodeState } from "@egida/runtime-core/protocol-lib";
import type { Kernel, StartEv } from "../hooks.js";
import { param } from "../params.js";
import type { CheckpointStoreState } from "./store-state.js";

type K = Kernel & Fields;

export interface Fields extends CheckpointStoreState {
  ckptStore: CheckpointStore | null;
  /** Index of the last checkpoint taken or restored (monotone per rank, across incarnations). */
  ckptIndex: number;
  /** An asynchronous checkpoint write is in flight: do not start another. */
  ckptWriting: boolean;
  /** No checkpoint and `ckpt.initAfterGather`: causal/gather runs the app's init and onStart once its round is over. */
  ckptInitDue: boolean;
}

export function init(s: K): void {
  s.ckptStore = null;
  s.ckptIndex = 0;
  s.ckptWriting = false;
  s.ckptInitDue = false;
}

export async function onOpen(s: K, _ev: StartEv): Promise<void> {
  s.ckptStore = await s.host.storage.openCheckpoints(param<string>("ckpt.medium"));
}

export async function onRecover(s: K, _ev: StartEv): Promise<void> {
  const c = await s.ckptStore!.latest();
  if (c !== null) {
    s.host.restoreAppState(c.app);
    s.ckptIndex = c.index;
    s.onRestore({ index: c.index, state: decodeState(c.protocol) as Record<string, unknown> });
  } else if (param<boolean>("ckpt.initAfterGather")) {
    // Causal logging: onStart's reads take the values the survivors hold, known only after the gather round.
    s.ckptInitDue = true;
  } else {
    await s.host.initApp({ replay: true });
  }
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Open the checkpoint store and restore the latest checkpoint on recovery.",
  implements: [{ module: "Checkpoint" }, { variable: "storage", value: "local-disk" }, { variable: "storage", value: "nfs-disk" }, { variable: "storage", value: "volatile-memory-of-processes" }, { variable: "storage", value: "volatile-memory-of-self" }],
  params: { "ckpt.medium": "string", "ckpt.initAfterGather": "boolean" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/timers.ts"] },
  },
  owns: {},
};
