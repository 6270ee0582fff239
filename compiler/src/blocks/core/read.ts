/**
 * Core: non-deterministic input. Last in the onRead chain: when no block
 * supplied a value, call the producer. Every logging protocol the library
 * implements selects log/read-log.ts before it (which logs the value, or
 * returns the logged one during replay), so this is the value source only
 * for protocols that need no read determinants.
 */
import type { Kernel, ReadEv } from "../hooks.js";

type K = Kernel & Fields;

export interface Fields {}

export function init(_s: K): void {}

export function onRead(_s: K, ev: ReadEv): void {
  if (ev.value === null) ev.value = ev.produce();
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Produce a non-deterministic input value (last in onRead).",
  implements: [{ module: "EventHandler" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/output-emit.ts", "core/transmit.ts"] },
  },
  owns: {},
};
