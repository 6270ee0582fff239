/**
 * HowToOutputCommit (batched): outputs are released in groups. The first
 * output of a group waits `batch.windowMs`; every output written meanwhile
 * joins it; then one flush of the event log makes the determinants of the
 * whole group stable, and the group leaves in seq order (each waiter resumes
 * in the order it joined). The independent commit flushes once per output;
 * under a burst of outputs this is one flush per group, for at most
 * `batch.windowMs` more latency per output. Recovery needs nothing: an
 * output is released only after its determinants are stable, as with the
 * independent commit.
 */
import type { EventLogFields, Kernel, WriteEv } from "egida-gen/blocks";
import { param } from "egida-gen/blocks";

type K = Kernel & Fields & EventLogFields;

export interface Fields {
  /** The open group: resolves once its flush is done (null: none open). */
  outBatch: Promise<void> | null;
}

export function init(s: K): void {
  s.outBatch = null;
}

export async function onWrite(s: K, _ev: WriteEv): Promise<void> {
  if (s.outBatch === null) {
    // The host's clock, not the global setTimeout: the simulator's time is virtual, and a wall-clock
    // timer is no event there (the world went idle with every output waiting: a stall).
    s.outBatch = new Promise<void>((resolve) => s.host.timers.after(param<number>("batch.windowMs"), resolve)).then(async () => {
      s.outBatch = null; // outputs written from now on open the next group
      if (s.evLog !== null) await s.evLog.sync();
    });
  }
  await s.outBatch;
}

// ---- manifest (egida-gen's blocks/manifest.ts): declared last, like a built-in block's.
import type { BlockManifest } from "egida-gen/blocks";

export const manifest: BlockManifest = {
  purpose: "Batched output commit: outputs wait up to batch.windowMs and leave in groups after one flush of the event log.",
  implements: [{ module: "HowToOutputCommit" }, { variable: "output-commit-proto", value: "batched" }],
  params: { "batch.windowMs": "number" },
  order: {
    // constructor order: where commit/independent.ts's fields would be
    init: { after: ["checkpoint/independent.ts"], before: ["core/recovery.ts"] },
    // numbered (core/output-seq), held by the durable watermark (log/watermark), committed here, then released (core/output-emit)
    onWrite: { after: ["core/output-seq.ts", "log/watermark.ts"], before: ["core/output-emit.ts"] },
  },
  owns: {},
  // its K reads the event log's fields (EventLogFields)
  requires: ["log/event-log.ts"],
};
