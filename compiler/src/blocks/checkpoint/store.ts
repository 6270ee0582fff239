/**
 * HowToCheckpoint (write): last in the onCheckpoint chain, when every block
 * has put its state in `ev.state`. `synchronously`: the pump waits for the
 * durable write; `asynchronously`: the state was captured between
 * deliveries, the write continues in the background while the application
 * runs. Either way onCheckpointDurable (log truncation, stability notices,
 * older checkpoints dropped) runs only once the checkpoint is durable.
 * `incremental` lets the store write only the chunks that changed.
 * Writes are chained: a checkpoint captured while an asynchronous write is
 * still in flight (a forced one, checkpoint/schedule.ts) is written after it,
 * so checkpoints become durable, truncate logs and drop older ones in order.
 */
import type { CheckpointEv, Kernel } from "../hooks.js";
import { encodeState, releaseWarm } from "@egida/runtime-core/protocol-lib";
import { param } from "../params.js";
import type { Fields as CkptRestore } from "./restore.js";
import type { CheckpointStoreState } from "./store-state.js";
import type { Fields as CoreSsn } from "../core/ssn.js";

type K = Kernel & Fields & CkptRestore & CheckpointStoreState & CoreSsn;

export interface Fields {
  /** The write chain: resolves when every captured checkpoint is durable. */
  ckptChain: Promise<void>;
}

export function init(s: K): void {
  s.ckptChain = Promise.resolve();
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  const incremental = param<boolean>("ckpt.incremental");
  ev.index = ++s.ckptIndex;
  // Nothing reads the state once it is encoded (consume), and the store keeps no reference to the bytes
  // once written: that memory goes back to the warm pool for the next checkpoint (protocol-lib warm.ts).
  const ckpt = { index: ev.index, app: ev.app, protocol: encodeState(ev.state, { consume: true }) };
  // A write still in flight (only checkpoint/schedule.ts can capture one meanwhile): queue behind it.
  const busy = s.ckptWriting;
  s.ckptWriting = true;
  s.st.checkpoints++;
  s.host.trace({ type: "checkpoint", rank: s.host.rank, index: ev.index });
  const store = s.ckptStore!;
  const run = async (): Promise<void> => {
    await store.write(ckpt, { incremental });
    releaseWarm(ckpt.protocol);
    releaseWarm(ckpt.app);
    await s.onCheckpointDurable(ev);
    await store.gc(ev.index);
    if (s.ckptChain === write) s.ckptWriting = false;
  };
  const write: Promise<void> = busy ? s.ckptChain.then(run) : run();
  s.ckptChain = write;
  if (param<boolean>("ckpt.sync")) await write;
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Write the checkpoint (full or incremental, sync or async), then GC the logs and notify senders (last in onCheckpoint).",
  implements: [{ module: "HowToCheckpoint" }, { variable: "how-to-ckpt", value: "synchronously" }, { variable: "how-to-ckpt", value: "asynchronously" }, { variable: "ckpt-impl", value: "full" }, { variable: "ckpt-impl", value: "incremental" }],
  params: { "ckpt.incremental": "boolean", "ckpt.sync": "boolean" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/read.ts"] },
    // every block adds its state before the store writes it (last)
    onCheckpoint: { after: ["causal/det-log.ts", "core/output-seq.ts", "log/read-log.ts", "log/send-log.ts", "log/watermark.ts"] },
  },
  owns: {},
  // the blocks whose fields its K reads
  requires: ["checkpoint/restore.ts", "core/ssn.ts"],
};
