/**
 * The kernel: the `Protocol` SPI methods (the paper's API, Network and
 * FailureDetector entry points into the EventHandler) as functions of `s`,
 * and the host field.
 *
 * The kernel imports no block but core/ssn (the statistics): what every block
 * sees of it is `Kernel` (hooks.ts), and each block file adds its own fields
 * and those of the blocks it uses. The inline emitter declares exactly the
 * fields of the selected blocks as class fields and copies the SPI method
 * bodies below; the dev composer (compose.ts) calls these same functions
 * with one object holding everything.
 */
import { wordsOf } from "@egida/runtime-core/protocol-lib";
import type { FrameKind, InboundFrame, ProtocolHost, ProtocolStats } from "@egida/runtime-core/spi";
import type { Kernel } from "./hooks.js";
import type { Fields as CoreSsn } from "./core/ssn.js";

export interface Fields {
  host: ProtocolHost;
}

/** The state the SPI methods see: the kernel and the statistics (core/ssn owns them). */
type K = Kernel & Fields & CoreSsn;

export function init(s: K, host: ProtocolHost): void {
  s.host = host;
}

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
  // Piggybacks are u32 words (protocol-lib words: copied when small, else viewed or realigned).
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
