/**
 * HowToOutputCommit (independent): before an output leaves, make this
 * process's own determinants stable (flush its event log), so every state the
 * output depends on is recoverable locally (paper §4.2 example 2, step (a)).
 * With synchronous logging the flush finds nothing to do.
 */
import type { Kernel, WriteEv } from "../hooks.js";
import type { Fields as LogEventLog } from "../log/event-log.js";

type K = Kernel & Fields & LogEventLog;

export interface Fields {}

export function init(_s: K): void {}

export async function onWrite(s: K, _ev: WriteEv): Promise<void> {
  if (s.evLog !== null) await s.evLog.sync();
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Output commit under pessimistic logging: an output waits until this process's own determinants are stable.",
  implements: [{ module: "HowToOutputCommit" }, { variable: "output-commit-proto", value: "independent" }, { variable: "output-commit-proto", value: "coordinated" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["checkpoint/independent.ts"], before: ["core/recovery.ts"] },
    // numbered (core/output-seq), committed, then released (core/output-emit)
    onWrite: { after: ["log/watermark.ts"], before: ["core/output-emit.ts"] },
  },
  owns: {},
  // the blocks whose fields its K reads
  requires: ["log/event-log.ts"],
};
