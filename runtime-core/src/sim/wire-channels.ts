/**
 * The simulator's byte path: frames cross the simulated network as the bytes
 * the TCP transport would write, encoded by its own FrameQueue and decoded by
 * its own FrameDecoder, so the campaign exercises the codec, the CRC, the
 * zero-copy path for large frames and reassembly from arbitrary chunks.
 *
 * Only the socket is simulated. One decoder per directed channel stands for
 * one TCP connection: it is replaced whenever either end starts a new
 * incarnation (a reconnect), exactly when TcpTransport would open a new
 * connection with a fresh decoder. Bytes of a frame cut by a crash therefore
 * never run into the next connection's frames, as in TCP.
 *
 * Large payloads are queued by reference, as FrameQueue does: a protocol that
 * mutates a payload after `send` gets a CRC mismatch here, as over TCP.
 */
import type { Frame, InboundFrame } from "../spi.js";
import { FrameError, WireKind } from "../transport/frame.js";
import { FrameDecoder } from "../transport/frame-decoder.js";
import { FrameQueue } from "../transport/frame-queue.js";
import type { Prng } from "./prng.js";

/** The bytes of one frame as the transport would hand them to the socket. */
export type WireBytes = readonly Buffer[];

export type DecodeOutcome =
  | { readonly ok: true; readonly frame: InboundFrame | undefined }
  | { readonly ok: false; readonly reason: string };

interface Channel {
  decoder: FrameDecoder;
  /** Generations of sender and receiver this connection belongs to. */
  fromGen: number;
  toGen: number;
}

export class WireChannels {
  private readonly queue = new FrameQueue();
  private readonly channels: (Channel | undefined)[];

  constructor(
    private readonly size: number,
    private readonly maxFrameBytes: number,
  ) {
    this.channels = new Array<Channel | undefined>(size * size).fill(undefined);
  }

  /** Encode one frame from `from`@`fromIncarnation` (zero-copy for large payloads). */
  encode(from: number, fromIncarnation: number, f: Frame): WireBytes {
    this.queue.push({ kind: f.kind, tag: f.tag, from, fromIncarnation, piggyback: f.piggyback, payload: f.payload });
    return this.queue.drain();
  }

  /**
   * Feed one frame's bytes into the connection `from`->`to`, cut into chunks
   * at seeded points, and return the frame it completes (undefined when the
   * bytes end mid-frame, as a cut frame does). A decoder error closes the
   * connection: the next bytes start a new one.
   */
  decode(from: number, fromGen: number, to: number, toGen: number, bytes: WireBytes, rng: Prng): DecodeOutcome {
    const i = from * this.size + to;
    let ch = this.channels[i];
    if (ch === undefined || ch.fromGen !== fromGen || ch.toGen !== toGen) {
      ch = { decoder: new FrameDecoder(this.maxFrameBytes), fromGen, toGen };
      this.channels[i] = ch;
    }
    let out: InboundFrame | undefined;
    let extra = 0;
    const onFrame = (w: { kind: number; tag: number; from: number; fromIncarnation: number; piggyback: Uint8Array; payload: Uint8Array }): void => {
      if (out !== undefined) {
        extra++;
        return;
      }
      out = { kind: w.kind as InboundFrame["kind"], tag: w.tag, from: w.from, fromIncarnation: w.fromIncarnation, piggyback: w.piggyback, payload: w.payload };
    };
    try {
      for (const chunk of splitChunks(bytes, rng)) ch.decoder.push(chunk, onFrame);
    } catch (e) {
      this.channels[i] = undefined;
      if (e instanceof FrameError) return { ok: false, reason: e.message };
      throw e;
    }
    if (extra > 0) throw new Error(`sim wire: ${extra + 1} frames decoded from one frame's bytes on ${from}->${to}`);
    if (out !== undefined) {
      // What Connection checks on an open connection.
      const kind: number = out.kind;
      if (kind !== WireKind.App && kind !== WireKind.Control) return this.reject(i, `unexpected frame kind ${out.kind}`);
      if (out.from !== from) return this.reject(i, `frame claims to be from ${out.from} on a connection from ${from}`);
    }
    return { ok: true, frame: out };
  }

  private reject(i: number, reason: string): DecodeOutcome {
    this.channels[i] = undefined;
    return { ok: false, reason };
  }
}

/** Up to three chunks at seeded cut points: the decoder must not care where TCP splits. */
function splitChunks(bytes: WireBytes, rng: Prng): Buffer[] {
  const whole = bytes.length === 1 ? bytes[0]! : Buffer.concat(bytes);
  if (whole.length < 2 || rng.next() < 0.5) return [whole];
  const a = 1 + Math.floor(rng.next() * (whole.length - 1));
  if (rng.next() < 0.5) return [whole.subarray(0, a), whole.subarray(a)];
  const b = a + Math.floor(rng.next() * (whole.length - a));
  return [whole.subarray(0, a), whole.subarray(a, b), whole.subarray(b)];
}

/** A prefix of the frame's bytes: what a receiver holds when the sender died mid-write. */
export function cutBytes(bytes: WireBytes, rng: Prng): WireBytes {
  const whole = Buffer.concat(bytes);
  return [whole.subarray(0, Math.floor(rng.next() * whole.length))];
}

/** The frame's bytes with one byte flipped. */
export function corruptBytes(bytes: WireBytes, rng: Prng): WireBytes {
  const whole = Buffer.from(Buffer.concat(bytes));
  const at = Math.floor(rng.next() * whole.length);
  whole[at] = whole[at]! ^ (1 + Math.floor(rng.next() * 255));
  return [whole];
}
