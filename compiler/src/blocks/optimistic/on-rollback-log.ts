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
