/**
 * Core: hand the message to the application. Last in the onDeliver chain:
 * every block before it (forced checkpoints, determinant creation, logging,
 * piggyback processing) has completed, so a synchronous logger's record is
 * durable before the application sees the message (pessimistic logging).
 */
import type { K } from "../kernel.js";
import type { DeliverEv } from "../hooks.js";

export interface Fields {}

export function init(_s: K): void {}

export async function onDeliver(s: K, ev: DeliverEv): Promise<void> {
  const m = ev.msg;
  s.delivered[m.from] = m.ssn;
  s.rsn = ev.rsn;
  await s.host.deliver(m.from, m.payload, { replay: ev.replay });
}
