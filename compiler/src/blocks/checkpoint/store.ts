/**
 * HowToCheckpoint (write): last in the onCheckpoint chain, when every block
 * has put its state in `ev.state`. `synchronously`: the pump waits for the
 * durable write; `asynchronously`: the state was captured between
 * deliveries, the write continues in the background while the application
 * runs. Either way onCheckpointDurable (log truncation, stability notices,
 * older checkpoints dropped) runs only once the checkpoint is durable.
 * `incremental` lets the store write only the chunks that changed.
 */
import { serialize } from "node:v8";
import type { K } from "../kernel.js";
import type { CheckpointEv } from "../hooks.js";
import { param } from "../params.js";

export interface Fields {}

export function init(_s: K): void {}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  const synchronous = param<boolean>("ckpt.sync");
  const incremental = param<boolean>("ckpt.incremental");
  ev.index = ++s.ckptIndex;
  const ckpt = { index: ev.index, app: ev.app, protocol: new Uint8Array(serialize(ev.state)) };
  s.ckptWriting = true;
  s.st.checkpoints++;
  s.host.trace({ type: "checkpoint", rank: s.host.rank, index: ev.index });
  const store = s.ckptStore!;
  const write = (async () => {
    await store.write(ckpt, { incremental });
    await s.onCheckpointDurable(ev);
    await store.gc(ev.index);
    s.ckptWriting = false;
  })();
  if (synchronous) await write;
}
