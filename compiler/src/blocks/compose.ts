/**
 * The dev composer: a `ProtocolFactory` built at run time from the selected
 * block modules, calling each hook's functions in chain order on one shared
 * state object. It is the executable reference the emitted code must match:
 * same kernel SPI functions, same chains, same parameters.
 */
import type { InboundFrame, Protocol, ProtocolFactory, ProtocolHost, ProtocolStats } from "@egida/runtime-core/spi";
import { HOOKS, HOOK_NAMES, type HookName } from "./hooks.js";
import { BLOCK_MODULES, type BlockModule, type ComposedState } from "./index.js";
import * as kernel from "./kernel.js";
import { installParams, type ParamValue } from "./params.js";
import type { BlockInstance } from "./select.js";

type HookFn = (s: ComposedState, ev: unknown) => unknown;

export interface ComposeOptions {
  readonly name: string;
  readonly defaultF: number;
}

export function compose(instances: readonly BlockInstance[], opts: ComposeOptions): ProtocolFactory {
  const params = new Map<string, ParamValue>();
  const mods: BlockModule[] = [];
  for (const inst of instances) {
    const mod = BLOCK_MODULES[inst.file];
    if (mod === undefined) throw new Error(`compose: no block module ${inst.file}`);
    mods.push(mod);
    for (const [k, v] of Object.entries(inst.params)) {
      const had = params.get(k);
      if (had !== undefined && had !== v) throw new Error(`compose: parameter ${k} is ${String(had)} and ${String(v)} (block ${inst.file})`);
      params.set(k, v);
    }
  }
  const chains = new Map<HookName, HookFn[]>();
  for (const h of HOOK_NAMES) {
    const fns: HookFn[] = [];
    for (const m of mods) {
      const fn = m[h] as HookFn | undefined;
      if (fn === undefined) continue;
      const isAsync = fn.constructor.name === "AsyncFunction";
      if (HOOKS[h].async !== "either" && isAsync !== HOOKS[h].async) throw new Error(`compose: hook ${h} must ${HOOKS[h].async ? "" : "not "}be async`);
      fns.push(fn);
    }
    chains.set(h, fns);
  }
  return {
    protocolName: opts.name,
    defaultF: opts.defaultF,
    create(host: ProtocolHost): Protocol {
      const s = {} as ComposedState;
      const methods = s as unknown as Record<string, (ev: unknown) => unknown>;
      for (const h of HOOK_NAMES) {
        const fns = chains.get(h)!;
        const info = HOOKS[h];
        if (info.filter) {
          methods[h] = (ev) => {
            for (const fn of fns) {
              installParams(params);
              if (fn(s, ev) === false) return false;
            }
            return true;
          };
        } else if (info.async) {
          methods[h] = async (ev) => {
            for (const fn of fns) {
              installParams(params);
              await fn(s, ev);
            }
          };
        } else {
          methods[h] = (ev) => {
            for (const fn of fns) {
              installParams(params);
              fn(s, ev);
            }
          };
        }
      }
      installParams(params);
      kernel.init(s, host);
      for (const m of mods) m.init?.(s);
      const protocol: Protocol = {
        start: () => kernel.start(s),
        send: (to: number, payload: Uint8Array) => kernel.send(s, to, payload),
        onFrame: (frame: InboundFrame) => kernel.onFrame(s, frame),
        read: (produce: () => Uint8Array | Promise<Uint8Array>) => kernel.read(s, produce),
        write: (payload: Uint8Array) => kernel.write(s, payload),
        onPeerRestart: (rank: number, incarnation: number) => kernel.onPeerRestart(s, rank, incarnation),
        stats: (): ProtocolStats => kernel.stats(s),
        finish: () => kernel.finish(s),
        stop: () => kernel.stop(s),
      };
      // Tests inspect the kernel state (dev composer only; emitted classes are the state).
      Object.defineProperty(protocol, "kernel", { value: s, enumerable: false });
      return protocol;
    },
  };
}

/** The kernel state behind a composed protocol (tests only). */
export function kernelOf(p: Protocol): ComposedState {
  return (p as unknown as { kernel: ComposedState }).kernel;
}
