/**
 * Core: non-deterministic input. Last in the onRead chain: when no block
 * supplied a value (a read-determinant logger replaying a logged value), call
 * the producer. Without a `read: determinant ...` statement reads are not
 * replayable, and the spec's guarantees hold only for apps that do not read.
 */
import type { K } from "../kernel.js";
import type { ReadEv } from "../hooks.js";

export interface Fields {}

export function init(_s: K): void {}

export async function onRead(_s: K, ev: ReadEv): Promise<void> {
  if (ev.value === null) ev.value = ev.produce();
}
