/**
 * `none`: no fault tolerance. The baseline of the overhead benchmarks and the
 * protocol the launcher is tested with before any protocol is generated.
 *
 * Sends go straight to the transport (no piggyback, no log), frames are
 * delivered in arrival order, `read` just calls produce, `write` releases at
 * once. A restarted rank re-runs init/onStart: its state is lost, which is
 * traced and logged. Survivors may then wait forever for messages the lost
 * state would have sent; the launcher's stall timeout reports that.
 *
 * Output numbering: each incarnation numbers its outputs from
 * incarnation * 2^32, so a re-initialized rank's outputs are new outputs to the
 * idempotent sink, never duplicates or retractions of the lost incarnation's
 * (none promises nothing about them).
 */
import {
  FrameKind,
  type Frame,
  type InboundFrame,
  type Protocol,
  type ProtocolFactory,
  type ProtocolHost,
  type ProtocolStats,
} from "../spi.js";

const EMPTY = new Uint8Array(0);
const NOT_REPLAY = Object.freeze({ replay: false });
/** Outputs per incarnation before numbering would collide with the next incarnation's range. */
const SEQ_STRIDE = 2 ** 32;

class NoneProtocol implements Protocol {
  private readonly host: ProtocolHost;
  /** Arrival-order queue; `head` avoids O(n) Array#shift on long bursts. */
  private queue: InboundFrame[] = [];
  private head = 0;
  private delivering = false;
  private live = false;
  private stopped = false;
  private nextSeq: number;
  private messages = 0;

  private readonly afterDeliver = (): void => {
    this.delivering = false;
    this.pump();
  };
  private readonly onDeliverError = (): void => {
    // The host has reported the failure (app error, contract violation); stop delivering.
    this.stopped = true;
  };

  constructor(host: ProtocolHost) {
    this.host = host;
    this.nextSeq = host.incarnation * SEQ_STRIDE;
  }

  async start(): Promise<void> {
    if (this.host.incarnation > 0) {
      this.host.trace({
        type: "protocol",
        rank: this.host.rank,
        what: `state lost: protocol none keeps no recovery information; incarnation ${this.host.incarnation} re-initializes the application`,
      });
    }
    await this.host.initApp(NOT_REPLAY);
    this.live = true;
    this.pump();
  }

  send(to: number, payload: Uint8Array): void {
    this.messages++;
    const frame: Frame = { kind: FrameKind.App, tag: 0, piggyback: EMPTY, payload };
    this.host.transport.send(to, frame);
  }

  onFrame(frame: InboundFrame): void {
    // none has no control messages of its own.
    if (frame.kind !== FrameKind.App || this.stopped) return;
    this.queue.push(frame);
    this.pump();
  }

  read(produce: () => Uint8Array | Promise<Uint8Array>): Uint8Array | Promise<Uint8Array> {
    // Nothing to log or replay: the value as produced, at once or as its promise.
    return produce();
  }

  write(payload: Uint8Array): Promise<void> {
    return this.host.emitOutput(this.nextSeq++, payload);
  }

  onPeerRestart(): void {
    // Nothing to resend or roll back: none keeps nothing.
  }

  stats(): ProtocolStats {
    return { messages: this.messages, piggybackBytes: 0, bytesLogged: 0, checkpoints: 0, rollbacks: 0 };
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  private pump(): void {
    while (!this.delivering && this.live && !this.stopped && this.head < this.queue.length) {
      const fr = this.queue[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.delivering = true;
      const r = this.host.deliver(fr.from, fr.payload, NOT_REPLAY);
      // onMessage returned no promise: the next delivery at once, without a promise reaction and a
      // microtask per message (the streaming bench's receivers spent ~2% of their time there).
      if (r === this.host.settled) this.delivering = false;
      else r.then(this.afterDeliver, this.onDeliverError);
    }
  }
}

export const noneProtocol: ProtocolFactory = Object.freeze({
  protocolName: "none",
  defaultF: 0,
  create(host: ProtocolHost): Protocol {
    return new NoneProtocol(host);
  },
});

export default noneProtocol;
