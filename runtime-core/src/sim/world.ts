/**
 * SimWorld: a whole job's network in one process, on a virtual clock.
 *
 * Deterministic for a seed: per-message latency comes from a seeded PRNG,
 * events run in (time, seq) order, and between events promise continuations
 * are allowed to settle (see settle.ts) so async protocol code sees the same
 * interleaving every run.
 *
 * Failure semantics (mirroring the TCP transport):
 *  - `crash(r)`: frames in flight *to* r are lost; r's pending timers never
 *    fire; frames r had buffered for dead peers are lost (they lived in r's
 *    memory); frames r already put on the wire are still delivered (they are
 *    in the network, like bytes in a kernel socket buffer). With
 *    `crashLosesUnflushed`, frames r sent since the current event began are
 *    not on the wire yet and are lost too. Live peers get `peerDown(r)` after
 *    `failureDetectionMs`.
 *  - while r is dead, frames sent to it are buffered at the sender and sent,
 *    in order, when r restarts (the contract: "frames sent to a peer that is
 *    down are buffered and sent once it reconnects").
 *  - `restart(r, inc)`: a fresh transport and timers for r; every live peer
 *    gets `peerIncarnation(r, inc)`, and the new r gets `peerIncarnation(j, inc_j)`
 *    for each live peer j with inc_j > 0 — the same rule as TCP: a peer is
 *    reported when it shows up with an incarnation above the last one this
 *    transport saw, counting from 0.
 *
 * With `wire: "tcp"` the world does not stand in for the transport at all:
 * each rank incarnation gets a real TcpTransport (`endpoint(rank)`) over
 * in-memory sockets (sim-net.ts) and timers on the virtual clock. Frames,
 * the handshake, write coalescing, failure detection (a FIN or reset
 * closes the connection: `peerDown`), re-dial with backoff and the
 * `peerIncarnation` reports are then TcpTransport's own; the world only
 * moves bytes, closes the sockets of a crashed rank, frees its port, and
 * injects `crashTail` damage and `resetConnection` faults.
 */
import type { Frame, InboundFrame, Timers, Transport } from "../spi.js";
import { EventQueue } from "./event-queue.js";
import { Prng } from "./prng.js";
import { fullSettle, PromiseActivity, type SettleMode } from "./settle.js";
import { SimTimers, type TimerHost } from "./sim-timers.js";
import { SimTransport, type SimNetwork } from "./sim-transport.js";
import { wireCopy } from "./wire-copy.js";
import { corruptBytes, cutBytes, WireChannels, type WireBytes } from "./wire-channels.js";
import { DEFAULT_MAX_FRAME_BYTES } from "../transport/frame.js";
import { TcpTransport, type PeerAddress } from "../transport/tcp.js";
import type { TransportClock } from "../transport/io.js";
import { SimNetHub, type SimNetStats } from "./sim-net.js";

export interface SimWorldOptions {
  /** Number of ranks. */
  readonly size: number;
  /** PRNG seed (default 1). */
  readonly seed?: number;
  /** Per-frame latency, uniform in [min, max) virtual ms (default 0.05..1). */
  readonly latency?: { readonly min: number; readonly max: number };
  /** Delay before live peers get `peerDown` after a crash (default 1 ms; negative disables). */
  readonly failureDetectionMs?: number;
  /** Copy piggyback and payload on send, as a real network would (default true). */
  readonly copyFrames?: boolean;
  /**
   * With copyFrames: hand frames over as TCP does, as unaligned `Buffer` views
   * into a larger chunk (see wire-copy.ts; default false).
   */
  readonly wireFrames?: boolean;
  /**
   * Frames cross as bytes through the TCP transport's own FrameQueue and
   * FrameDecoder, one decoder per connection, cut into chunks at seeded
   * points (see wire-channels.ts; default false). Takes precedence over
   * copyFrames and wireFrames.
   */
  readonly codec?: boolean;
  /**
   * With codec: when a rank crashes, the last frame it has in flight to each
   * peer arrives cut (the sender died mid-write) with probability `cut`, or
   * with a flipped byte with probability `corrupt`; the receiver's decoder
   * must drop it and the next incarnation's connection must start clean.
   */
  readonly crashTail?: { readonly cut: number; readonly corrupt: number };
  /**
   * A crash also loses the frames the rank sent since the current event began
   * (default false). TCP queues a rank's frames and writes them on the next
   * tick, so a process killed in the step that sent them (e.g. egida-run's
   * `--kill R@Kmsgs`, right after a delivery) never put them on the wire.
   */
  readonly crashLosesUnflushed?: boolean;
  /** Record a trace of deliveries and drops in `world.trace` (default false). */
  readonly trace?: boolean;
  /** How to let continuations settle between events (default "auto"; see settle.ts). */
  readonly settle?: SettleMode;
  /** Frames buffered per (sender, dead receiver) before `send` throws (default unbounded). */
  readonly maxBufferedPerPeer?: number;
  /**
   * "frames" (default): the world is the network and delivers whole frames
   * (as bytes through the codec with `codec`). "tcp": every rank runs a real
   * TcpTransport over simulated sockets (see the file comment and
   * sim-net.ts); `crashTail` then damages the last chunk each of a crashed
   * rank's sockets has in flight, and `codec`, `copyFrames`, `wireFrames`,
   * `crashLosesUnflushed`, `failureDetectionMs` and `maxBufferedPerPeer` do
   * not apply (the transport's own behaviour does).
   */
  readonly wire?: "frames" | "tcp";
  /** With wire "tcp": TcpTransport's re-dial backoff, virtual ms (default its own, 20..1000). */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /**
   * With wire "tcp": TcpTransport's `heartbeatMs` (default 0 = off; its timeout is 3 ×).
   * Periodic: the world is then never idle, so run with `until`.
   */
  readonly heartbeatMs?: number;
}

/** Log lines of the TcpTransports (wire "tcp"), by level; the last few kept for diagnosis. */
export interface SimTcpLog {
  info: number;
  warn: number;
  error: number;
  readonly last: string[];
}

export type SimEventKind = "frame" | "timer" | "peerIncarnation" | "peerDown" | "drain" | "world";

export interface SimStep {
  /** 1-based count of events processed by this world. */
  readonly step: number;
  readonly time: number;
  readonly kind: SimEventKind;
  /** The rank the event is for (-1 for world events). */
  readonly rank: number;
  /** For frames: the sender. */
  readonly from: number;
}

export interface SimTraceEntry {
  readonly time: number;
  readonly from: number;
  readonly to: number;
  readonly kind: number;
  readonly tag: number;
  readonly size: number;
  readonly dropped: boolean;
}

export interface SimRunOptions {
  /** Stop before the first event later than this virtual time (the clock is then set to it). */
  readonly until?: number;
  /** Stop after this many events in this call. */
  readonly maxSteps?: number;
  /** Called before each event; may crash or restart ranks (a crash campaign's "crash at step k"). */
  readonly onStep?: (step: SimStep) => void;
}

export interface SimRunResult {
  readonly steps: number;
  readonly time: number;
  readonly reason: "idle" | "until" | "maxSteps";
}

export interface SimStats {
  framesSent: number;
  framesDelivered: number;
  framesDropped: number;
  /** With crashTail: frames cut or corrupted at a crash, and frames the decoder rejected. */
  framesCut: number;
  framesCorrupted: number;
  framesRejected: number;
  steps: number;
}

const enum EvType {
  Frame = 0,
  Timer = 1,
  PeerInc = 2,
  PeerDown = 3,
  Drain = 4,
  World = 5,
}
const KIND_NAMES: readonly SimEventKind[] = ["frame", "timer", "peerIncarnation", "peerDown", "drain", "world"];

/** One class for every event keeps the heap monomorphic. */
class Ev {
  cancelled = false;
  /** Processed (delivered or dropped): a crash-tail fault no longer applies. */
  done = false;
  /** With codec: the frame's bytes (`frame` is then undefined until decoded). */
  wire: WireBytes | undefined = undefined;
  constructor(
    public time: number,
    public seq: number,
    public readonly type: EvType,
    public readonly rank: number,
    public readonly gen: number,
    public readonly from: number,
    public readonly arg: number,
    public readonly frame: InboundFrame | undefined,
    public readonly fn: (() => void) | undefined,
  ) {}
}

interface Buffered {
  readonly frame: Frame;
  readonly fromIncarnation: number;
  readonly wire: WireBytes | undefined;
}

export class SimWorld implements SimNetwork, TimerHost {
  readonly size: number;
  readonly seed: number;
  readonly trace: SimTraceEntry[] = [];
  readonly stats: SimStats = { framesSent: 0, framesDelivered: 0, framesDropped: 0, framesCut: 0, framesCorrupted: 0, framesRejected: 0, steps: 0 };
  private _now = 0;
  private seq = 0;
  private readonly rng: Prng;
  private readonly queue = new EventQueue<Ev>();
  private readonly latMin: number;
  private readonly latSpan: number;
  private readonly detectMs: number;
  private readonly copy: boolean;
  private readonly wire: boolean;
  private readonly loseUnflushed: boolean;
  private readonly channels: WireChannels | undefined;
  private readonly tail: { readonly cut: number; readonly corrupt: number } | undefined;
  /** With crashTail: per channel, the last frame event scheduled. */
  private readonly lastFrame: (Ev | undefined)[];
  /** Streams of their own for chunk cuts and tail faults, so latencies stay those of the seed. */
  private readonly wireRng: Prng;
  private readonly tailRng: Prng;
  /** With crashLosesUnflushed: frames scheduled per sender since the current event began. */
  private readonly unflushed: Ev[][];
  private unflushedAny = false;
  private readonly tracing: boolean;
  private readonly settleMode: SettleMode;
  private readonly maxBuffered: number;
  private readonly alive: boolean[];
  private readonly gen: number[];
  private readonly inc: number[];
  private readonly transports: SimTransport[];
  private readonly timerSets: SimTimers[];
  /** Per channel (from * size + to): the last scheduled delivery time, for FIFO. */
  private readonly lastDelivery: Float64Array;
  /** Per channel: frames buffered at the sender while the receiver is dead. */
  private readonly buffered: (Buffered[] | undefined)[];
  private readonly activity = new PromiseActivity();
  private running = false;
  /** With wire "tcp": the sockets, and each rank's current TcpTransport. */
  private readonly hub: SimNetHub | undefined;
  private readonly tcp: (TcpTransport | undefined)[];
  private readonly backoff: { readonly initialMs: number; readonly maxMs: number } | undefined;
  private readonly heartbeatMs: number;
  readonly tcpLog: SimTcpLog = { info: 0, warn: 0, error: 0, last: [] };

  constructor(opts: SimWorldOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1) throw new RangeError(`size must be a positive integer, got ${opts.size}`);
    this.size = opts.size;
    this.seed = opts.seed ?? 1;
    this.rng = new Prng(this.seed);
    const lat = opts.latency ?? { min: 0.05, max: 1 };
    if (!(lat.min >= 0 && lat.max >= lat.min)) throw new RangeError("latency needs 0 <= min <= max");
    this.latMin = lat.min;
    this.latSpan = lat.max - lat.min;
    this.detectMs = opts.failureDetectionMs ?? 1;
    this.copy = opts.copyFrames ?? true;
    this.wire = opts.wireFrames ?? false;
    this.loseUnflushed = opts.crashLosesUnflushed ?? false;
    this.channels = opts.codec === true ? new WireChannels(opts.size, DEFAULT_MAX_FRAME_BYTES) : undefined;
    this.tail = opts.codec === true ? opts.crashTail : undefined;
    this.lastFrame = new Array<Ev | undefined>(opts.size * opts.size).fill(undefined);
    this.wireRng = new Prng(this.seed ^ 0x5eed_c0de);
    this.tailRng = new Prng(this.seed ^ 0x7a11_fa17);
    this.tracing = opts.trace ?? false;
    this.settleMode = opts.settle ?? "auto";
    this.maxBuffered = opts.maxBufferedPerPeer ?? Infinity;
    const n = this.size;
    this.alive = new Array<boolean>(n).fill(true);
    this.gen = new Array<number>(n).fill(0);
    this.inc = new Array<number>(n).fill(0);
    this.lastDelivery = new Float64Array(n * n);
    this.buffered = new Array<Buffered[] | undefined>(n * n).fill(undefined);
    this.transports = [];
    this.timerSets = [];
    this.unflushed = [];
    for (let r = 0; r < n; r++) this.unflushed.push([]);
    for (let r = 0; r < n; r++) {
      this.transports.push(new SimTransport(this, r, n, 0, 0));
      this.timerSets.push(new SimTimers(this, r, 0));
    }
    this.tcp = new Array<TcpTransport | undefined>(n).fill(undefined);
    this.backoff = opts.backoff;
    this.heartbeatMs = opts.heartbeatMs ?? 0;
    if (opts.wire === "tcp") {
      this.hub = new SimNetHub(this, n, new Prng(this.seed ^ 0x7c9_5eed), opts.crashTail);
      for (let r = 0; r < n; r++) this.transports[r]!.stopped = true; // unused: endpoint() is the TcpTransport
      for (let r = 0; r < n; r++) this.openTcp(r, 0, 0);
    }
  }

  /** With wire "tcp": socket-level counters (dials, resets, damaged chunks, ...). */
  get netStats(): SimNetStats | undefined {
    return this.hub?.stats;
  }

  /** The rank's transport for a host: its TcpTransport with wire "tcp", else its SimTransport. */
  endpoint(rank: number): Transport {
    this.checkRank(rank);
    if (!this.alive[rank]) throw new Error(`rank ${rank} is crashed; restart it first`);
    return this.tcp[rank] ?? this.transports[rank]!;
  }

  /**
   * With wire "tcp": reset the open connection between live ranks `a` and `b`
   * mid-stream (see SimNetHub.reset). Returns the number of connections reset.
   */
  resetConnection(a: number, b: number, how: "clean" | "cut" | "corrupt" = "clean"): number {
    this.checkRank(a);
    this.checkRank(b);
    if (this.hub === undefined) throw new Error("resetConnection needs wire: \"tcp\"");
    return this.hub.reset(a, b, how);
  }

  /** With wire "tcp": for `ms` virtual ms, nothing gets through between ranks `a` and `b`, and nothing closes. */
  partition(a: number, b: number, ms: number): void {
    this.checkRank(a);
    this.checkRank(b);
    if (this.hub === undefined) throw new Error("partition needs wire: \"tcp\"");
    this.hub.partition(a, b, ms);
  }

  /** With wire "tcp": pairs of ranks whose connection has bytes in flight now (where a reset loses something). */
  busyConnections(): [number, number][] {
    return this.hub?.busy() ?? [];
  }

  /** One seeded one-way latency (the sockets' SimNetHost). */
  latency(): number {
    return this.latMin + this.rng.next() * this.latSpan;
  }

  private openTcp(rank: number, incarnation: number, gen: number): void {
    const timers = new SimTimers(this, rank, gen);
    const clock: TransportClock = {
      now: () => this._now,
      after: (ms, fn) => timers.after(ms, fn),
      every: (ms, fn) => timers.every(ms, fn),
      soon: (fn) => void timers.after(0, fn),
    };
    const log = this.tcpLog;
    this.tcp[rank] = TcpTransport.open({
      rank,
      size: this.size,
      incarnation,
      secret: "egida simulated job secret",
      host: SIM_HOST,
      peers: simAddresses(this.size),
      net: this.hub!.layer(rank, gen),
      clock,
      ...(this.backoff === undefined ? {} : { backoff: this.backoff }),
      heartbeatMs: this.heartbeatMs,
      log: (level, msg) => {
        log[level]++;
        if (level !== "info") {
          log.last.push(`${this._now.toFixed(2)} ${msg}`);
          if (log.last.length > 20) log.last.shift();
        }
      },
    });
  }

  /** Virtual time, ms. */
  get now(): number {
    return this._now;
  }

  /** Events waiting (including cancelled timers not yet popped). */
  get pending(): number {
    return this.queue.size;
  }

  /** The transport of the rank's current incarnation. */
  transport(rank: number): SimTransport {
    this.checkRank(rank);
    if (!this.alive[rank]) throw new Error(`rank ${rank} is crashed; restart it first`);
    return this.transports[rank]!;
  }

  /** Timers on the virtual clock for the rank's current incarnation. */
  timers(rank: number): Timers {
    this.checkRank(rank);
    if (!this.alive[rank]) throw new Error(`rank ${rank} is crashed; restart it first`);
    return this.timerSets[rank]!;
  }

  incarnation(rank: number): number {
    this.checkRank(rank);
    return this.inc[rank]!;
  }

  isAlive(rank: number): boolean {
    this.checkRank(rank);
    return this.alive[rank]!;
  }

  /** A PRNG stream derived from the world's, for a harness that wants seeded choices (e.g. crash points). */
  fork(): Prng {
    return this.rng.fork();
  }

  /** Run `fn` as a world event at virtual time `time` (not tied to any rank). */
  at(time: number, fn: () => void): () => void {
    const ev = new Ev(Math.max(time, this._now), this.seq++, EvType.World, -1, 0, -1, 0, undefined, fn);
    this.queue.push(ev);
    return () => {
      ev.cancelled = true;
    };
  }

  crash(rank: number): void {
    this.checkRank(rank);
    if (!this.alive[rank]) return;
    this.alive[rank] = false;
    this.gen[rank]!++; // invalidates in-flight frames and timers for the old incarnation
    this.transports[rank]!.stopped = true;
    if (this.hub !== undefined) {
      this.tcp[rank] = undefined;
      this.hub.crash(rank);
      return;
    }
    const n = this.size;
    for (let from = 0; from < n; from++) this.lastDelivery[from * n + rank] = 0; // its in-flight frames are gone
    if (this.tail !== undefined) this.damageTail(rank);
    for (const ev of this.unflushed[rank]!) {
      // Sent in this step: still in the dead process's write queue, never on the wire.
      ev.cancelled = true;
      this.stats.framesDropped++;
    }
    this.unflushed[rank] = [];
    for (let to = 0; to < n; to++) {
      const ch = rank * n + to;
      const b = this.buffered[ch];
      if (b !== undefined) {
        this.stats.framesDropped += b.length;
        this.buffered[ch] = undefined;
      }
    }
    if (this.detectMs >= 0) {
      for (let j = 0; j < n; j++) {
        if (j === rank || !this.alive[j]) continue;
        this.queue.push(new Ev(this._now + this.detectMs, this.seq++, EvType.PeerDown, j, this.gen[j]!, rank, 0, undefined, undefined));
      }
    }
  }

  /** Start a new incarnation of `rank` (crashing the current one if it is alive). Returns its transport. */
  restart(rank: number, incarnation?: number): SimTransport {
    this.checkRank(rank);
    const next = incarnation ?? this.inc[rank]! + 1;
    if (!(Number.isInteger(next) && next > this.inc[rank]!)) {
      throw new RangeError(`rank ${rank}: new incarnation ${next} must be above ${this.inc[rank]}`);
    }
    if (this.alive[rank]) this.crash(rank);
    const n = this.size;
    const g = ++this.gen[rank]!;
    this.alive[rank] = true;
    this.inc[rank] = next;
    const t = new SimTransport(this, rank, n, next, g);
    this.transports[rank] = t;
    this.timerSets[rank] = new SimTimers(this, rank, g);
    if (this.hub !== undefined) {
      t.stopped = true;
      this.openTcp(rank, next, g);
      return t;
    }
    // Notifications first: they are scheduled at `now`, before any frame of the new incarnation can land.
    for (let j = 0; j < n; j++) {
      if (j === rank || !this.alive[j]) continue;
      this.queue.push(new Ev(this._now, this.seq++, EvType.PeerInc, j, this.gen[j]!, rank, next, undefined, undefined));
      if (this.inc[j]! > 0) {
        this.queue.push(new Ev(this._now, this.seq++, EvType.PeerInc, rank, g, j, this.inc[j]!, undefined, undefined));
      }
    }
    // Frames the others buffered while `rank` was dead, in per-sender order.
    for (let from = 0; from < n; from++) {
      const ch = from * n + rank;
      const b = this.buffered[ch];
      if (b === undefined) continue;
      this.buffered[ch] = undefined;
      for (const item of b) this.schedule(from, item.fromIncarnation, rank, item.frame, item.wire);
    }
    return t;
  }

  /**
   * Process events until none are left (after letting continuations settle),
   * `until` is passed, or `maxSteps` events ran.
   */
  async run(opts: SimRunOptions = {}): Promise<SimRunResult> {
    if (this.running) throw new Error("SimWorld.run is already running");
    this.running = true;
    const until = opts.until ?? Infinity;
    const maxSteps = opts.maxSteps ?? Infinity;
    const onStep = opts.onStep;
    const always = this.settleMode === "always";
    const activity = this.activity;
    let steps = 0;
    let sinceYield = 0;
    let reason: SimRunResult["reason"] = "idle";
    if (!always) activity.enable();
    try {
      await fullSettle(); // whatever the caller started before run() goes first
      activity.dirty = false;
      for (;;) {
        if (steps >= maxSteps) {
          reason = "maxSteps";
          break;
        }
        let ev = this.queue.peek();
        if (ev === undefined) {
          await fullSettle();
          activity.dirty = false;
          ev = this.queue.peek();
          if (ev === undefined) break;
        }
        if (ev.time > until) {
          this._now = Math.max(this._now, until);
          reason = "until";
          break;
        }
        this.queue.pop();
        if (ev.cancelled) continue;
        if (this.unflushedAny) this.flushAll(); // the previous step's frames are on the wire now
        this._now = ev.time;
        steps++;
        const step = ++this.stats.steps;
        if (onStep !== undefined) {
          onStep({ step, time: ev.time, kind: KIND_NAMES[ev.type]!, rank: ev.rank, from: ev.from });
        }
        this.process(ev);
        // Settle when the event touched promises; otherwise still yield now
        // and then so a long run does not starve the real event loop.
        if (always || activity.dirty || ++sinceYield >= 8192) {
          await fullSettle();
          activity.dirty = false;
          sinceYield = 0;
        }
      }
    } finally {
      activity.disable();
      this.running = false;
    }
    return { steps, time: this._now, reason };
  }

  // ---------------------------------------------------------------- SimNetwork

  sendFrame(from: SimTransport, to: number, frame: Frame): void {
    const r = from.rank;
    if (from.stopped || from.generation !== this.gen[r] || !this.alive[r]) {
      this.stats.framesDropped++; // leftover code of a crashed incarnation
      return;
    }
    if (!(to >= 0 && to < this.size && Number.isInteger(to))) throw new RangeError(`send: no rank ${to} (size ${this.size})`);
    if (to === r) throw new RangeError(`send: rank ${r} cannot send to itself`);
    if (!(frame.tag >= 0 && frame.tag <= 0xffff && Number.isInteger(frame.tag))) throw new RangeError(`send: tag ${frame.tag} is not a u16`);
    const wire = this.channels?.encode(r, from.incarnation, frame);
    const f: Frame =
      wire !== undefined || !this.copy
        ? frame
        : this.wire
          ? wireCopy(frame, this.stats.framesSent)
          : { kind: frame.kind, tag: frame.tag, piggyback: frame.piggyback.slice(), payload: frame.payload.slice() };
    this.stats.framesSent++;
    if (!this.alive[to]) {
      const ch = r * this.size + to;
      let b = this.buffered[ch];
      if (b === undefined) this.buffered[ch] = b = [];
      if (b.length >= this.maxBuffered) {
        throw new Error(`send: ${b.length} frames already buffered from rank ${r} for dead rank ${to} (maxBufferedPerPeer)`);
      }
      b.push({ frame: f, fromIncarnation: from.incarnation, wire });
      return;
    }
    const ev = this.schedule(r, from.incarnation, to, f, wire);
    if (this.loseUnflushed) {
      this.unflushed[r]!.push(ev);
      this.unflushedAny = true;
    }
  }

  scheduleDrain(t: SimTransport): void {
    this.queue.push(new Ev(this._now, this.seq++, EvType.Drain, t.rank, t.generation, -1, 0, undefined, undefined));
  }

  // ---------------------------------------------------------------- TimerHost

  scheduleTimer(rank: number, generation: number, at: number, fn: () => void): () => void {
    if (generation !== this.gen[rank] || !this.alive[rank]) return noop;
    const ev = new Ev(at, this.seq++, EvType.Timer, rank, generation, -1, 0, undefined, fn);
    this.queue.push(ev);
    return () => {
      ev.cancelled = true;
    };
  }

  // ---------------------------------------------------------------- internals

  private schedule(from: number, fromIncarnation: number, to: number, f: Frame, wire: WireBytes | undefined): Ev {
    const ch = from * this.size + to;
    let t = this._now + this.latMin + this.rng.next() * this.latSpan;
    const last = this.lastDelivery[ch]!;
    if (t < last) t = last; // FIFO per channel; equal times keep order through seq
    this.lastDelivery[ch] = t;
    const inbound: InboundFrame = {
      kind: f.kind,
      tag: f.tag,
      piggyback: f.piggyback,
      payload: f.payload,
      from,
      fromIncarnation,
    };
    // `arg` holds the sender's generation: with codec, a new one is a new connection.
    const ev = new Ev(t, this.seq++, EvType.Frame, to, this.gen[to]!, from, this.gen[from]!, wire === undefined ? inbound : undefined, undefined);
    ev.wire = wire;
    if (this.tail !== undefined) this.lastFrame[ch] = ev;
    this.queue.push(ev);
    return ev;
  }

  private flushAll(): void {
    for (let r = 0; r < this.size; r++) if (this.unflushed[r]!.length > 0) this.unflushed[r] = [];
    this.unflushedAny = false;
  }

  private process(ev: Ev): void {
    const rank = ev.rank;
    if (ev.type === EvType.World) {
      ev.fn!();
      return;
    }
    const live = this.alive[rank] === true && this.gen[rank] === ev.gen;
    switch (ev.type) {
      case EvType.Frame: {
        ev.done = true;
        const t = this.transports[rank]!;
        let f = ev.frame;
        if (ev.wire !== undefined) {
          // Bytes reach the receiver's socket whether or not it is still alive to read them.
          const got = this.channels!.decode(ev.from, ev.arg, rank, ev.gen, ev.wire, this.wireRng);
          if (!got.ok) {
            this.stats.framesRejected++;
            this.stats.framesDropped++;
            return;
          }
          if (got.frame === undefined) {
            this.stats.framesDropped++; // a cut frame: its bytes end with the connection
            return;
          }
          f = got.frame;
        }
        if (f === undefined) throw new Error("sim: frame event without a frame");
        const ok = live && !t.stopped;
        if (this.tracing) {
          this.trace.push({
            time: ev.time,
            from: f.from,
            to: rank,
            kind: f.kind,
            tag: f.tag,
            size: f.piggyback.byteLength + f.payload.byteLength,
            dropped: !ok,
          });
        }
        if (!ok) {
          this.stats.framesDropped++;
          return;
        }
        this.stats.framesDelivered++;
        t.deliverFrame(f);
        return;
      }
      case EvType.Timer:
        if (live) ev.fn!();
        return;
      case EvType.PeerInc:
        if (live) this.transports[rank]!.deliverPeerIncarnation(ev.from, ev.arg);
        return;
      case EvType.PeerDown:
        if (live) this.transports[rank]!.deliverPeerDown(ev.from);
        return;
      case EvType.Drain:
        if (live) this.transports[rank]!.drainInbox();
        return;
    }
  }

  /** crashTail: the last frame `rank` has in flight to each peer may arrive cut or corrupted. */
  private damageTail(rank: number): void {
    const tail = this.tail!;
    const n = this.size;
    for (let to = 0; to < n; to++) {
      const ev = this.lastFrame[rank * n + to];
      if (ev === undefined || ev.done || ev.cancelled || ev.wire === undefined) continue;
      const x = this.tailRng.next();
      if (x < tail.cut) {
        ev.wire = cutBytes(ev.wire, this.tailRng);
        this.stats.framesCut++;
      } else if (x < tail.cut + tail.corrupt) {
        ev.wire = corruptBytes(ev.wire, this.tailRng);
        this.stats.framesCorrupted++;
      }
    }
  }

  private checkRank(rank: number): void {
    if (!(Number.isInteger(rank) && rank >= 0 && rank < this.size)) throw new RangeError(`no rank ${rank} (size ${this.size})`);
  }
}

function noop(): void {}

/** Where each rank listens with wire "tcp" (a fixed port per rank: a restarted rank binds it again). */
const SIM_HOST = "sim";
function simAddresses(size: number): PeerAddress[] {
  return Array.from({ length: size }, (_, r) => ({ host: SIM_HOST, port: 7000 + r }));
}
