/**
 * The kernel: the `Protocol` SPI methods (the paper's API, Network and
 * FailureDetector entry points into the EventHandler), the kernel state type
 * `K`, and the shapes shared by the core blocks.
 *
 * `K` is what `s` is in every block body: the host, every block's `Fields`,
 * and the hook chains as methods (`s.onPump(ev)`). The inline emitter
 * declares exactly the fields of the selected blocks as class fields and
 * copies the SPI method bodies below; the dev composer (compose.ts) calls
 * these same functions with one object holding everything.
 */
import type { FrameKind, InboundFrame, ProtocolHost, ProtocolStats } from "@egida/runtime-core/spi";
import type { Hooks } from "./hooks.js";
import type { Fields as CoreSsn } from "./core/ssn.js";
import type { Fields as CoreReceive } from "./core/receive.js";
import type { Fields as CorePump } from "./core/pump.js";
import type { Fields as CoreRetransmit } from "./core/retransmit.js";
import type { Fields as CoreOutput } from "./core/output-seq.js";
import type { Fields as CoreRecovery } from "./core/recovery.js";
import type { Fields as CoreTimers } from "./core/timers.js";
import type { Fields as CoreTransmit } from "./core/transmit.js";
import type { Fields as EventLog } from "./log/event-log.js";
import type { Fields as ReadLog } from "./log/read-log.js";
import type { Fields as SendLog } from "./log/send-log.js";
import type { Fields as Watermark } from "./log/watermark.js";
import type { Fields as CkptRestore } from "./checkpoint/restore.js";
import type { Fields as CkptIndependent } from "./checkpoint/independent.js";
import type { Fields as CkptSchedule } from "./checkpoint/schedule.js";
import type { Fields as CkptStore } from "./checkpoint/store.js";
import type { Fields as OptGate } from "./optimistic/gate.js";
import type { Fields as OptClock } from "./optimistic/clock.js";
import type { Fields as OptAsyncLog } from "./optimistic/async-log.js";
import type { Fields as OptCollect } from "./optimistic/collect.js";
import type { Fields as OptOrphan } from "./optimistic/orphan.js";
import type { Fields as OptCommit } from "./optimistic/commit.js";
import type { Fields as OptCheckpoint } from "./optimistic/checkpoint.js";
import type { Fields as OptExchange } from "./optimistic/exchange.js";
import type { Fields as CpPump } from "./ckpt-only/pump.js";
import type { Fields as CpIndex } from "./ckpt-only/index-pb.js";
import type { Fields as CpStore } from "./ckpt-only/store.js";
import type { Fields as CpOutput } from "./ckpt-only/output.js";
import type { Fields as CpRounds } from "./ckpt-only/rounds.js";
import type { Fields as CpSnapshot } from "./ckpt-only/snapshot.js";
import type { Fields as CausalDetLog } from "./causal/det-log.js";
import type { Fields as CausalGather } from "./causal/gather.js";
import type { Fields as CausalCommit } from "./causal/commit.js";
import type { Fields as CausalStableDets } from "./causal/stable-dets.js";
import { wordsOf } from "./core/words.js";

/** A received, not yet delivered, application message (held back in `s.held`). */
export interface InMsg {
  readonly from: number;
  readonly ssn: number;
  readonly fromIncarnation: number;
  /** The full piggyback (word 0 = ssn). */
  readonly pb: Uint32Array;
  readonly payload: Uint8Array;
  /** Arrival stamp: live delivery follows arrival order across channels. */
  readonly arrival: number;
}

/** A sent message kept in the retransmission buffer (the sender-based message log). */
export interface OutMsg {
  readonly to: number;
  readonly ssn: number;
  readonly pb: Uint32Array;
  readonly payload: Uint8Array;
}

export interface Fields {
  host: ProtocolHost;
}

export function init(s: K, host: ProtocolHost): void {
  s.host = host;
}

/** The hook chains, as methods of the kernel (`s.onPump(ev)`). */
export type HookMethods = { [H in keyof Hooks]: (ev: Parameters<Hooks[H]>[1]) => ReturnType<Hooks[H]> };

export type K = Fields &
  HookMethods &
  CoreSsn &
  CoreReceive &
  CorePump &
  CoreRetransmit &
  CoreOutput &
  CoreRecovery &
  CoreTimers &
  CoreTransmit &
  EventLog &
  ReadLog &
  SendLog &
  Watermark &
  CkptRestore &
  CkptIndependent &
  CkptSchedule &
  CkptStore &
  OptGate &
  OptClock &
  OptAsyncLog &
  OptCollect &
  OptOrphan &
  OptCommit &
  OptCheckpoint &
  OptExchange &
  CpPump &
  CpIndex &
  CpStore &
  CpOutput &
  CpRounds &
  CpSnapshot &
  CausalDetLog &
  CausalGather &
  CausalCommit &
  CausalStableDets;

// ------------------------------------------------------------ Protocol SPI

/** Open storage; a first incarnation starts the app, a later one recovers (restore + replay); then go live. */
export async function start(s: K): Promise<void> {
  const ev = { incarnation: s.host.incarnation };
  await s.onOpen(ev);
  if (ev.incarnation > 0) await s.onRecover(ev);
  else await s.host.initApp({ replay: false });
  await s.onLive(ev);
}

export function send(s: K, to: number, payload: Uint8Array): void {
  s.onSend({ to, payload, ssn: 0, pbLen: 0, held: false });
}

export function onFrame(s: K, frame: InboundFrame): void {
  // Piggybacks are u32 words (core/words: copied when small, else viewed or realigned).
  const pb = wordsOf(frame.piggyback);
  if (frame.kind === (1 as FrameKind)) {
    const ev = { from: frame.from, ssn: pb[0]!, fromIncarnation: frame.fromIncarnation, pb, payload: frame.payload, arrival: 0 };
    if (s.acceptReceive(ev)) s.onReceive(ev);
  } else {
    s.onControl({ from: frame.from, fromIncarnation: frame.fromIncarnation, tag: frame.tag, words: pb, payload: frame.payload });
  }
}

/** The value at once when it is at hand (replayed, or produced synchronously); a promise when produce returns one or a block waits. */
export function read(s: K, produce: () => Uint8Array | Promise<Uint8Array>): Uint8Array | Promise<Uint8Array> {
  const ev = { produce, value: null as Uint8Array | Promise<Uint8Array> | null };
  s.onRead(ev);
  return ev.value!;
}

export async function write(s: K, payload: Uint8Array): Promise<void> {
  await s.onWrite({ payload, seq: 0 });
}

export function onPeerRestart(s: K, rank: number, incarnation: number): void {
  s.onPeerIncarnation({ rank, incarnation });
}

export function stats(s: K): ProtocolStats {
  return { ...s.st };
}

/**
 * Every rank is done (the launcher calls it on each, and again on a rank
 * restarted meanwhile): the onFinish chain completes the output commits a
 * block still defers. Empty chain: nothing is pending, resolves at once.
 */
export async function finish(s: K): Promise<void> {
  await s.onFinish({ incarnation: s.host.incarnation });
}

export async function stop(s: K): Promise<void> {
  await s.onStop({ incarnation: s.host.incarnation });
}
