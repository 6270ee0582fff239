/**
 * HowToCheckpoint for the checkpoint-only protocols. Unlike checkpoint/store
 * it never drops older checkpoints on its own (a recovery line may need
 * them; ckpt-only/rounds.ts garbage-collects below committed lines), and it
 * keeps the process's checkpoint *history* in every checkpoint:
 *
 * - storage keys are unique and increasing per rank, never reused, even
 *   after a rollback (the next key continues after the highest stored one),
 *   so keys order a history in time and a rolled-back branch cannot be
 *   mistaken for the current one;
 * - `cpHist` lists this execution's checkpoints (ckpt-only/line.ts `Entry`:
 *   index, dependencies of the interval it closes, delivered vector, output
 *   seq), each written inside its own checkpoint, so a restarted process
 *   reads its history from its latest checkpoint.
 *
 * Writes are chained (in order), `synchronously` (the pump waits) or
 * `asynchronously` (captured between deliveries, written in the background).
 */
import type { CheckpointStore } from "@egida/runtime-core/spi";
import { decodeState, encodeState, releaseWarm } from "@egida/runtime-core/protocol-lib";
import type { CheckpointEv, Kernel, RestoreEv, StartEv } from "../hooks.js";
import type { Entry } from "./line.js";
import { param } from "../params.js";
import type { Fields as CpIndexPb } from "./index-pb.js";
import type { Fields as CoreOutputSeq } from "../core/output-seq.js";
import type { Fields as CoreSsn } from "../core/ssn.js";
import type { CheckpointStoreState } from "../checkpoint/store-state.js";

type K = Kernel & Fields & CpIndexPb & CoreOutputSeq & CoreSsn;

export interface Fields extends CheckpointStoreState {
  ckptStore: CheckpointStore | null;
  /** A checkpoint write is in flight (the local timer skips a tick). */
  ckptWriting: boolean;
  /** Storage key of the next checkpoint. */
  cpNextKey: number;
  /** This execution's checkpoints, oldest first (the last ones may still be in flight). */
  cpHist: Entry[];
  /** Key of the latest durable checkpoint (writes complete in order). */
  cpDurable: number;
  /** The write chain: resolves when every captured checkpoint is durable. */
  cpWrite: Promise<void>;
}

export function init(s: K): void {
  s.ckptStore = null;
  s.ckptWriting = false;
  s.cpNextKey = 1;
  s.cpHist = [];
  s.cpDurable = 0;
  s.cpWrite = Promise.resolve();
}

export async function onOpen(s: K, _ev: StartEv): Promise<void> {
  s.ckptStore = await s.host.storage.openCheckpoints(param<string>("ckpt.medium"));
  const keys = await s.ckptStore.list();
  if (keys.length > 0) s.cpNextKey = keys[keys.length - 1]! + 1;
  // A restarted process's history is the one written in its latest checkpoint.
  const c = await s.ckptStore.latest();
  if (c !== null) {
    // Entries whose checkpoints a commit dropped after this one was written are gone: the oldest stored one is the floor.
    const stored = new Set(keys);
    s.cpHist = ((decodeState(c.protocol) as Record<string, unknown>)["cp.hist"] as Entry[]).filter((e) => stored.has(e.key));
    s.cpDurable = c.index;
  }
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  const incremental = param<boolean>("ckpt.incremental");
  const key = s.cpNextKey++;
  const idx = s.cpWantIdx >= 0 ? s.cpWantIdx : s.cpIdx + 1;
  s.cpWantIdx = -1;
  const entry: Entry = { key, idx, maxIn: s.cpMaxIn, deps: s.cpDeps.slice(), dlv: ev.delivered, out: s.outSeq, sent: s.ssn.slice() };
  s.cpHist.push(entry);
  ev.index = key;
  ev.state["cp.hist"] = s.cpHist.slice();
  // A new interval starts here.
  s.cpIdx = idx;
  s.cpKey = key;
  s.cpDeps.fill(-1);
  // Nothing reads the state once it is encoded (consume), and the store keeps no reference to the bytes
  // once written: that memory goes back to the warm pool for the next checkpoint (protocol-lib warm.ts).
  const ckpt = { index: key, app: ev.app, protocol: encodeState(ev.state, { consume: true }) };
  s.ckptWriting = true;
  s.st.checkpoints++;
  s.host.trace({ type: "checkpoint", rank: s.host.rank, index: key });
  const store = s.ckptStore!;
  const w: Promise<void> = s.cpWrite.then(async () => {
    await store.write(ckpt, { incremental });
    releaseWarm(ckpt.protocol);
    releaseWarm(ckpt.app);
    s.cpDurable = key;
    await s.onCheckpointDurable(ev);
    if (s.cpWrite === w) s.ckptWriting = false;
  });
  s.cpWrite = w;
  if (param<boolean>("ckpt.sync")) await w;
}

/**
 * Restoring checkpoint `ev.index` puts the process just *before* that
 * checkpoint was taken: its history without it, and the interval it closed
 * open again, so the recovery checkpoint written next is an exact copy of it
 * (same index and dependencies) under a new key.
 */
export function onRestore(s: K, ev: RestoreEv): void {
  const hist = ev.state["cp.hist"] as Entry[];
  const e = hist[hist.length - 1]!;
  s.cpHist = hist.slice(0, -1);
  s.cpIdx = e.idx;
  s.cpMaxIn = e.maxIn;
  s.cpDeps = e.deps.slice();
  s.cpKey = s.cpHist.length > 0 ? s.cpHist[s.cpHist.length - 1]!.key : 0;
  s.cpWantIdx = e.idx;
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Checkpoint-only store: checkpoints with their history, never dropping one a recovery line may need.",
  implements: [{ module: "HowToCheckpoint" }, { variable: "how-to-ckpt", value: "synchronously" }, { variable: "how-to-ckpt", value: "asynchronously" }, { variable: "ckpt-impl", value: "full" }, { variable: "ckpt-impl", value: "incremental" }, { variable: "storage", value: "local-disk" }, { variable: "storage", value: "nfs-disk" }, { variable: "storage", value: "volatile-memory-of-processes" }],
  params: { "ckpt.medium": "string", "ckpt.incremental": "boolean", "ckpt.sync": "boolean" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/read.ts"] },
    // every block adds its state before the store writes it (last)
    onCheckpoint: { after: ["ckpt-only/rounds.ts"] },
    // state comes back in the order it was added
    onRestore: { after: ["ckpt-only/rounds.ts"] },
  },
  owns: {
    state: ["cp.hist"],
  },
  // the blocks whose fields its K reads
  requires: ["ckpt-only/index-pb.ts", "core/output-seq.ts", "core/ssn.ts"],
};
