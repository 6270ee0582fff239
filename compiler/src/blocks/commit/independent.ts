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
