/**
 * One TCP connection between two ranks: framing, the handshake state machine
 * (see handshake.ts), and validation of every frame that arrives. It reports
 * to its owner (the TcpTransport) through a small callback interface and
 * never throws into the socket's event handlers: any violation closes this
 * connection and is logged, and the process keeps running.
 */
import { COUNT_BYTES, countBytes, encodeFrame, FrameError, readCount, WireKind, type WireFrame } from "./frame.js";
import { FrameDecoder } from "./frame-decoder.js";
import type { TransportClock, WireSocket } from "./io.js";
import { handshakeMac, MAC_BYTES, newNonce, NONCE_BYTES, verifyMac, type HandshakeParties } from "./handshake.js";

/** Before authentication a peer may send only tiny handshake frames. */
const PRE_AUTH_MAX_FRAME = 256;
const EMPTY = new Uint8Array(0);

export interface ConnectionOwner {
  readonly rank: number;
  readonly size: number;
  readonly incarnation: number;
  readonly secret: Uint8Array;
  readonly maxFrameBytes: number;
  readonly clock: TransportClock;
  /** Listener side: may `rank` (at `incarnation`) connect now? Returns a reason to refuse, or undefined. */
  admit(rank: number, incarnation: number): string | undefined;
  /** Frames received from `rank` in the pair (`rank`@`incarnation`, this incarnation); 0 for a new pair. */
  receivedFrom(rank: number, incarnation: number): number;
  /** The peer acknowledged `count` frames of ours on an established connection. */
  ack(conn: Connection, count: number): void;
  /** The handshake completed. */
  established(conn: Connection): void;
  /** An App/Control frame arrived on an established connection. */
  frame(conn: Connection, f: WireFrame): void;
  /** The socket closed (for any reason). */
  closed(conn: Connection): void;
  /** The connection is being closed for a violation or failed authentication (logged by the owner). */
  rejected(conn: Connection, reason: string): void;
  log(level: "info" | "warn" | "error", msg: string): void;
}

type State = "awaitHello" | "awaitChallenge" | "awaitAuth" | "awaitWelcome" | "open" | "closed";

export class Connection {
  private state: State;
  private readonly decoder = new FrameDecoder(PRE_AUTH_MAX_FRAME);
  private readonly myNonce = newNonce();
  private peerNonce: Uint8Array = EMPTY;
  /** Cancels the handshake timeout. */
  private cancelHandshakeTimer: () => void;
  peerRank: number;
  peerIncarnation = 0;
  /** Frames of ours the peer said (in the handshake) it has received in this pair of incarnations. */
  peerReceived = 0;
  /** Frames from the peer this side said it has received; frames on this connection are numbered from here. */
  announced = 0;
  /** When bytes last arrived (owner.clock.now() ms), for the heartbeat timeout. */
  lastHeard: number;
  /** True when the owner replaced this connection by a newer one. */
  superseded = false;
  /** The handshake completed at some point (a later rejection is then an authenticated peer's). */
  authenticated = false;
  /** Where the peer connected from, kept for messages after the socket is gone. */
  private readonly remote: string;

  constructor(
    private readonly owner: ConnectionOwner,
    readonly socket: WireSocket,
    readonly role: "dialer" | "listener",
    /** For a dialer: the rank it dialed. */
    expectedPeer: number,
    handshakeTimeoutMs: number,
  ) {
    this.peerRank = expectedPeer;
    this.lastHeard = owner.clock.now();
    this.remote = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
    this.state = role === "dialer" ? "awaitChallenge" : "awaitHello";
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (e) => this.owner.log("info", `connection ${this.describe()}: ${e.message}`));
    socket.on("close", () => {
      this.state = "closed";
      this.cancelHandshakeTimer();
      this.owner.closed(this);
    });
    this.cancelHandshakeTimer = owner.clock.after(handshakeTimeoutMs, () => this.reject(`handshake not completed within ${handshakeTimeoutMs} ms`), true);
    if (role === "dialer") this.sendInternal(WireKind.Hello, this.myNonce);
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  describe(): string {
    const me = this.owner.rank;
    if (this.role === "dialer") return `${me}->${this.peerRank}`;
    // Before its Hello a caller is only an address.
    return this.peerRank < 0 ? `from ${this.remote}` : `${this.peerRank}->${me}`;
  }

  /** Close without the owner's rejection report (the owner evicts it and accounts for it itself). */
  drop(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.cancelHandshakeTimer();
    this.socket.destroy();
  }

  /** Close with a logged reason (protocol violation, bad secret, ...). */
  reject(reason: string): void {
    if (this.state === "closed") return;
    this.owner.rejected(this, reason);
    this.state = "closed";
    this.cancelHandshakeTimer();
    this.socket.destroy();
  }

  private sendInternal(kind: WireKind, payload: Uint8Array): void {
    this.socket.write(
      encodeFrame({ kind, tag: 0, from: this.owner.rank, fromIncarnation: this.owner.incarnation, piggyback: EMPTY, payload }),
    );
  }

  private onData(chunk: Buffer): void {
    if (this.state === "closed") return;
    this.lastHeard = this.owner.clock.now();
    try {
      this.decoder.push(chunk, this.onFrame);
    } catch (e) {
      // Frames before the bad one were delivered; a FrameError means the stream is corrupt.
      if (!(e instanceof FrameError)) throw e;
      this.reject(e.message);
    }
  }

  private readonly onFrame = (f: WireFrame): void => {
    if (this.state === "open") this.onOpenFrame(f);
    else if (this.state !== "closed") this.onHandshakeFrame(f);
    if ((this.state as State) === "closed") this.decoder.abandon();
  };

  private onOpenFrame(f: WireFrame): void {
    if (f.kind === WireKind.Heartbeat) return;
    if (f.kind === WireKind.Ack) {
      if (f.payload.byteLength !== COUNT_BYTES) return this.reject(`Ack of ${f.payload.byteLength} bytes`);
      this.owner.ack(this, readCount(f.payload, 0));
      return;
    }
    if (f.kind !== WireKind.App && f.kind !== WireKind.Control) {
      this.reject(`unexpected frame kind ${f.kind} after the handshake`);
      return;
    }
    if (f.from !== this.peerRank || f.fromIncarnation !== this.peerIncarnation) {
      this.reject(`frame claims to be from ${f.from}@${f.fromIncarnation}, connection is ${this.peerRank}@${this.peerIncarnation}`);
      return;
    }
    this.owner.frame(this, f);
  }

  private parties(): HandshakeParties {
    const o = this.owner;
    const dialer = this.role === "dialer";
    return {
      size: o.size,
      dialerRank: dialer ? o.rank : this.peerRank,
      dialerIncarnation: dialer ? o.incarnation : this.peerIncarnation,
      listenerRank: dialer ? this.peerRank : o.rank,
      listenerIncarnation: dialer ? this.peerIncarnation : o.incarnation,
      dialerNonce: dialer ? this.myNonce : this.peerNonce,
      listenerNonce: dialer ? this.peerNonce : this.myNonce,
    };
  }

  private onHandshakeFrame(f: WireFrame): void {
    const o = this.owner;
    switch (this.state) {
      case "awaitHello": {
        if (f.kind !== WireKind.Hello || f.payload.byteLength !== NONCE_BYTES) return this.reject("expected Hello");
        const why = o.admit(f.from, f.fromIncarnation);
        if (why !== undefined) return this.reject(why);
        this.peerRank = f.from;
        this.peerIncarnation = f.fromIncarnation;
        this.peerNonce = f.payload;
        this.announced = o.receivedFrom(this.peerRank, this.peerIncarnation);
        const mac = handshakeMac(o.secret, "listener", this.parties(), this.announced);
        this.sendInternal(WireKind.Challenge, Buffer.concat([this.myNonce, mac, countBytes(this.announced)]));
        this.state = "awaitAuth";
        return;
      }
      case "awaitChallenge": {
        if (f.kind !== WireKind.Challenge || f.payload.byteLength !== NONCE_BYTES + MAC_BYTES + COUNT_BYTES) return this.reject("expected Challenge");
        if (f.from !== this.peerRank) return this.reject(`dialed rank ${this.peerRank} but rank ${f.from} answered`);
        this.peerIncarnation = f.fromIncarnation;
        this.peerNonce = f.payload.subarray(0, NONCE_BYTES);
        this.peerReceived = readCount(f.payload, NONCE_BYTES + MAC_BYTES);
        if (!verifyMac(o.secret, "listener", this.parties(), this.peerReceived, f.payload.subarray(NONCE_BYTES, NONCE_BYTES + MAC_BYTES))) {
          return this.reject("authentication failed: the listener does not know the job secret");
        }
        this.announced = o.receivedFrom(this.peerRank, this.peerIncarnation);
        this.sendInternal(WireKind.Auth, Buffer.concat([handshakeMac(o.secret, "dialer", this.parties(), this.announced), countBytes(this.announced)]));
        this.state = "awaitWelcome";
        return;
      }
      case "awaitAuth": {
        if (f.kind !== WireKind.Auth || f.payload.byteLength !== MAC_BYTES + COUNT_BYTES) return this.reject("expected Auth");
        this.peerReceived = readCount(f.payload, MAC_BYTES);
        if (!verifyMac(o.secret, "dialer", this.parties(), this.peerReceived, f.payload.subarray(0, MAC_BYTES))) {
          return this.reject("authentication failed: the dialer does not know the job secret");
        }
        // Admission again: another connection from the same rank may have won meanwhile.
        const why = o.admit(this.peerRank, this.peerIncarnation);
        if (why !== undefined) return this.reject(why);
        this.sendInternal(WireKind.Welcome, EMPTY);
        this.open();
        return;
      }
      case "awaitWelcome": {
        if (f.kind !== WireKind.Welcome) return this.reject("expected Welcome");
        this.open();
        return;
      }
      default:
        return;
    }
  }

  private open(): void {
    this.state = "open";
    this.authenticated = true;
    this.cancelHandshakeTimer();
    this.decoder.maxFrameBytes = this.owner.maxFrameBytes;
    this.owner.established(this);
  }
}
