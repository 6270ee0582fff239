/**
 * The hooks of the kernel: one per event of the paper's Figure 5 call graph
 * (API → EventHandler → modules), plus the Timer, FailureDetector and Network
 * entry points and a few internal phases (pump, checkpoint-durable, restore).
 *
 * Every hook takes `(s, ev)`: `s` is the kernel state (each block file's `K`), `ev` a
 * fixed-shape event object (monomorphic: always allocated with every field).
 * A hook's *chain* is the selected blocks that implement it, run in the order
 * `selectBlocks` returns them: derived from the blocks' manifests (chain-order.ts).
 *
 * Blocks can run another hook's whole chain by calling it on `s` without the
 * `s` argument (`await s.onCheckpoint(ev)`): the inline emitter makes each
 * hook one class method of that name, the modular emitter one EventHandler
 * method, and the dev composer one closure. Hook names never collide with
 * `Protocol` methods (kernel.ts implements those).
 */
// InMsg (a received message, `RecvEv.msg`): the runtime's protocol helpers build it (the optimistic history).
import type { InMsg } from "@egida/runtime-core/protocol-lib";
import type { ProtocolHost } from "@egida/runtime-core/spi";

// ------------------------------------------------------------------ events

/** onOpen, onRecover, onLive, onStop, onFinish. */
export interface StartEv {
  incarnation: number;
}

/** onSend: the application sends (API module). Synchronous: never blocks the app. */
export interface SendEv {
  to: number;
  payload: Uint8Array;
  /** Assigned by core/ssn. */
  ssn: number;
  /** Words written so far into `s.pbw` (the piggyback scratch). */
  pbLen: number;
  /** Set by log/watermark: the send is held until its dependencies are durable (onRelease sends it then). */
  held: boolean;
}

/**
 * onRelease: a send log/watermark held (its dependencies were not durable yet) leaves now. `pb` is the
 * send's whole piggyback (its own copy), as `s.pbw` held it when the send was made.
 */
export interface ReleaseEv {
  to: number;
  ssn: number;
  pb: Uint32Array;
  payload: Uint8Array;
}

/** onReceive: an App frame arrived from the network (not yet delivered). Filters may drop it. */
export interface RecvEv {
  from: number;
  ssn: number;
  fromIncarnation: number;
  /** The whole piggyback as u32 words; word 0 is the ssn (core header). */
  pb: Uint32Array;
  payload: Uint8Array;
  /**
   * 0 until core/receive holds the message: it stamps the arrival and holds
   * the event itself as the InMsg (same fields, same order, so the same
   * hidden class as InMsg literals), one object per received message
   * instead of two (docs/performance.md).
   */
  arrival: number;
}

/** onDeliver: the pump hands one message to the application (live or replay). */
export interface DeliverEv {
  msg: InMsg;
  /** True while re-executing logged history after a crash: loggers must not log again. */
  replay: boolean;
  /** Delivery sequence number (the paper's desn) this delivery gets. 1-based. */
  rsn: number;
  /** Next unread piggyback word; piggyback readers consume their section in chain order. */
  pbPos: number;
}

/** onPump: run deliveries / pending checkpoints until nothing can progress. */
export interface PumpEv {
  reason: number;
}

/**
 * onRead: non-deterministic input. Synchronous: `value` is the value at once
 * when it is at hand (a logged one, or what a synchronous `produce` returned)
 * and a promise only when `produce` returns one or a block must wait; a block
 * that gets a promise chains on it (`value.then`), so `ctx.read(() => x)`
 * returns `x`'s value, not a promise (docs/runtime.md).
 */
export interface ReadEv {
  produce: () => Uint8Array | Promise<Uint8Array>;
  value: Uint8Array | Promise<Uint8Array> | null;
}

/** onWrite: output to the environment (output commit, then emit). */
export interface WriteEv {
  payload: Uint8Array;
  /** Per-rank output number, assigned by core/output-seq. */
  seq: number;
  /** Set by a commit block when the output must never leave (an orphan's): core/output-emit skips it. */
  drop?: boolean;
}

/** onControl: a protocol control frame. `words` is the frame's piggyback as u32 words. */
export interface ControlEv {
  from: number;
  fromIncarnation: number;
  tag: number;
  words: Uint32Array;
  payload: Uint8Array;
}

/** onPeerIncarnation: failure detector / transport says `rank` restarted. */
export interface PeerIncarnationEv {
  rank: number;
  incarnation: number;
}

/**
 * onCheckpoint: capture a checkpoint (only between deliveries: the pump runs it).
 * Blocks add what they keep in checkpoints to `state`; HowToCheckpoint writes it.
 */
export interface CheckpointEv {
  index: number;
  app: Uint8Array;
  state: Record<string, unknown>;
  /** Copy of the delivered vector at capture time (what the checkpoint makes stable). */
  delivered: Uint32Array;
  rsn: number;
}

/** onRestore: a checkpoint's protocol state is being restored (recovery or rollback). */
export interface RestoreEv {
  index: number;
  state: Record<string, unknown>;
}

/** onRollback: an orphan rolls back (optimistic logging; OrphanDetection). Runs between deliveries. */
export interface RollbackEv {
  reason: string;
}

/** onCheckpointTimer, onFlushTimer (Timer module). */
export interface TimerEv {
  now: number;
}

// ------------------------------------------------------------------ hooks

/**
 * Every hook: `(s, ev)`, its event type and whether it is async (returns a
 * Promise) or a filter (returns boolean: a block returning false stops the
 * chain and the caller drops the event).
 */
export interface Hooks {
  onOpen(s: Kernel, ev: StartEv): Promise<void>;
  onRecover(s: Kernel, ev: StartEv): Promise<void>;
  onLive(s: Kernel, ev: StartEv): Promise<void>;
  onStop(s: Kernel, ev: StartEv): Promise<void>;
  onFinish(s: Kernel, ev: StartEv): Promise<void>;
  onSend(s: Kernel, ev: SendEv): void;
  onRelease(s: Kernel, ev: ReleaseEv): void;
  acceptReceive(s: Kernel, ev: RecvEv): boolean;
  onReceive(s: Kernel, ev: RecvEv): void;
  onPump(s: Kernel, ev: PumpEv): void;
  onDeliver(s: Kernel, ev: DeliverEv): Promise<void> | void;
  onRead(s: Kernel, ev: ReadEv): void;
  onWrite(s: Kernel, ev: WriteEv): Promise<void>;
  onControl(s: Kernel, ev: ControlEv): void;
  onPeerIncarnation(s: Kernel, ev: PeerIncarnationEv): void;
  onCheckpoint(s: Kernel, ev: CheckpointEv): Promise<void>;
  onCheckpointDurable(s: Kernel, ev: CheckpointEv): Promise<void>;
  onRestore(s: Kernel, ev: RestoreEv): void;
  onCheckpointTimer(s: Kernel, ev: TimerEv): void;
  onFlushTimer(s: Kernel, ev: TimerEv): void;
  onRollback(s: Kernel, ev: RollbackEv): Promise<void>;
}

export type HookName = keyof Hooks;

/** The hook chains, as methods of the kernel (`s.onPump(ev)`). */
export type HookMethods = { [H in keyof Hooks]: (ev: Parameters<Hooks[H]>[1]) => ReturnType<Hooks[H]> };

/**
 * What every block sees of the kernel: the host and the hook chains. A block
 * file declares the state its bodies see as `type K = Kernel & Fields & ...`,
 * adding its own `Fields` and those of the blocks it uses (ARCHITECTURE.md,
 * "The block contract"). Imports no block, so the block graph stays acyclic.
 */
export type Kernel = { host: ProtocolHost } & HookMethods;

export interface HookInfo {
  /**
   * The chain is awaited: block bodies may `await`. "either": a block is
   * `async` (it may await, never returns) or not (it may `return` a promise
   * the rest of the chain waits for); the inline back end emits the chain as a
   * plain function when no block's await survives parameter folding and only
   * the last block returns, so a delivery with nothing to wait for makes no
   * promise at all (docs/codegen-design.md, "Hooks that are async only when
   * they must be").
   */
  readonly async: boolean | "either";
  /** Blocks may be filters (return boolean; false stops the chain). */
  readonly filter: boolean;
  /** Who runs it. */
  readonly caller: string;
}

export const HOOKS: Readonly<Record<HookName, HookInfo>> = {
  onOpen: { async: true, filter: false, caller: "Protocol.start (every incarnation), before anything else" },
  onRecover: { async: true, filter: false, caller: "Protocol.start when incarnation > 0; resolves when replay is done" },
  onLive: { async: true, filter: false, caller: "Protocol.start, last (timers start here)" },
  onStop: { async: true, filter: false, caller: "Protocol.stop" },
  onFinish: { async: true, filter: false, caller: "Protocol.finish (every rank is done); resolves when this rank's pending outputs are released" },
  onSend: { async: false, filter: false, caller: "Protocol.send (API module)" },
  onRelease: { async: false, filter: false, caller: "log/watermark, when a sync round covers a held send (pessimistic logging)" },
  acceptReceive: { async: false, filter: true, caller: "Protocol.onFrame for App frames, before onReceive (orphan / stale-epoch filters)" },
  onReceive: { async: false, filter: false, caller: "Protocol.onFrame for App frames the filters accepted (Network module)" },
  onPump: { async: false, filter: false, caller: "core blocks, after receive / recovery / timers (not awaited: the pump continues asynchronously only when a step has to wait)" },
  onDeliver: { async: "either", filter: false, caller: "core/pump, one delivery at a time" },
  onRead: { async: false, filter: false, caller: "Protocol.read (API module); a value that is not at hand is a promise in ev.value" },
  onWrite: { async: true, filter: false, caller: "Protocol.write (API module)" },
  onControl: { async: false, filter: false, caller: "Protocol.onFrame for Control frames" },
  onPeerIncarnation: { async: false, filter: false, caller: "Protocol.onPeerRestart (FailureDetector)" },
  onCheckpoint: { async: true, filter: false, caller: "core/pump, between deliveries, when s.ckptWanted" },
  onCheckpointDurable: { async: true, filter: false, caller: "HowToCheckpoint, once the checkpoint is durable" },
  onRestore: { async: false, filter: false, caller: "HowToCheckpoint during recovery" },
  onCheckpointTimer: { async: false, filter: false, caller: "Timer module (checkpoint interval)" },
  onFlushTimer: { async: false, filter: false, caller: "Timer module (flush interval)" },
  onRollback: { async: true, filter: false, caller: "OrphanDetection (optimistic/orphan, optimistic/rollback), between deliveries; `On rollback` actions first" },
};

export const HOOK_NAMES = Object.keys(HOOKS) as HookName[];
