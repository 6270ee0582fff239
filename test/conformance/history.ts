/**
 * The logical history of each rank, recorded by wrapping the application.
 *
 * The wrapper adds a hidden counter to the application's state: the number of
 * handler executions (onStart, then each onMessage) that state has seen. It
 * travels inside checkpoints with the state, so after any restore the next
 * handler knows its *position* in the rank's logical history without any
 * help from the protocol. A handler at position p overwrites the history from
 * p on: that is how rolled-back suffixes are removed, and how a replay is
 * matched with what it replays.
 */
import { serialize } from "node:v8";
import { decodeValue } from "../../runtime-core/src/host/value-codec.js";
import { canonical, canonicalOf, digestOf } from "./canon.js";
import type { App, AppContext, AppMessage, InitArgs } from "../../runtime-core/src/spi.js";

const never = (): Promise<never> => new Promise<never>(() => {});

export interface SentMsg {
  readonly to: number;
  readonly digest: number;
}

/** One handler execution in a rank's logical history. */
export interface Step {
  readonly pos: number;
  /** Sender, or -1 for onStart. */
  readonly from: number;
  /** crc32 of the delivered payload (0 for onStart). */
  readonly digest: number;
  /** The delivered message, v8-serialized (null for onStart), for the replayer. */
  readonly data: Uint8Array | null;
  readonly replay: boolean;
  readonly incarnation: number;
  readonly sends: SentMsg[];
  /** ctx.write payloads, canonical (canon.ts), in call order. */
  readonly writes: Uint8Array[];
  /** Values ctx.read returned, v8-serialized, in call order. */
  readonly reads: Uint8Array[];
  complete: boolean;
  /** Per send: a frame carrying it left the process (the transport adapter matched it). */
  readonly sendLeft: boolean[];
  /** Per write: the sink released it. */
  readonly writeReleased: boolean[];
}

/** A delivery as it happened (not rolled back or deduplicated): the raw trace. */
export interface DeliveryRecord {
  readonly from: number;
  readonly digest: number;
  readonly replay: boolean;
  readonly incarnation: number;
  readonly pos: number;
}

/** A position regression inside one incarnation: the process went back to an earlier state. */
export interface Regression {
  readonly incarnation: number;
  readonly from: number;
  readonly to: number;
  /** Whether the incarnation's start() had resolved (a survivor, not a recovering process). */
  readonly live: boolean;
}

export interface WrappedState {
  pos: number;
  app: unknown;
}

export class RankHistory {
  /** The effective history: rolled-back suffixes are cut off when a position is re-executed. */
  readonly steps: Step[] = [];
  readonly deliveries: DeliveryRecord[] = [];
  readonly regressions: Regression[] = [];
  /** App frames that reached this rank's transport, by sender incarnation (a delivery's digest alone cannot tell which incarnation sent it). */
  readonly received: { readonly from: number; readonly fromIncarnation: number; readonly digest: number }[] = [];
  /** Deliveries over all incarnations (the `atDelivery` trigger counts these). */
  deliveryCount = 0;
  private readonly maxPos = new Map<number, number>();

  constructor(readonly rank: number) {}

  /** A handler begins at `pos` in `incarnation`. */
  begin(incarnation: number, live: boolean, pos: number, from: number, digest: number, data: Uint8Array | null, replay: boolean): Step {
    const prev = this.maxPos.get(incarnation);
    if (prev !== undefined && pos <= prev) this.regressions.push({ incarnation, from: prev, to: pos, live });
    this.maxPos.set(incarnation, Math.max(prev ?? -1, pos));
    this.steps.length = Math.min(this.steps.length, pos);
    // A restore to a position this history never reached cannot happen; keep the array dense anyway.
    while (this.steps.length < pos) this.steps.push(placeholder(this.steps.length));
    const s: Step = { pos, from, digest, data, replay, incarnation, sends: [], writes: [], reads: [], complete: false, sendLeft: [], writeReleased: [] };
    this.steps.push(s);
    if (from >= 0) {
      this.deliveryCount++;
      this.deliveries.push({ from, digest, replay, incarnation, pos });
    }
    return s;
  }

  /** A deep copy of the effective history now (to compare with what recovery rebuilds). */
  snapshot(): Step[] {
    return this.steps.map((s) => ({
      ...s,
      sends: [...s.sends],
      writes: [...s.writes],
      reads: [...s.reads],
      sendLeft: [...s.sendLeft],
      writeReleased: [...s.writeReleased],
    }));
  }

  /** An App frame with this payload digest left for `to`: flag the earliest send it can carry. */
  markSent(to: number, digest: number): void {
    for (const s of this.steps) {
      for (let i = 0; i < s.sends.length; i++) {
        const m = s.sends[i]!;
        if (!s.sendLeft[i] && m.to === to && m.digest === digest) {
          s.sendLeft[i] = true;
          return;
        }
      }
    }
  }

  /** The sink released this output: flag the earliest write with these bytes. */
  markReleased(bytes: Uint8Array): void {
    const canon = canonical(bytes);
    for (const s of this.steps) {
      for (let i = 0; i < s.writes.length; i++) {
        if (!s.writeReleased[i] && Buffer.from(s.writes[i]!).equals(canon)) {
          s.writeReleased[i] = true;
          return;
        }
      }
    }
  }

  /** The last position whose effects left the process (a message sent or an output released), or -1. */
  lastVisible(): number {
    let v = -1;
    for (const s of this.steps) if (s.sendLeft.some(Boolean) || s.writeReleased.some(Boolean)) v = s.pos;
    return v;
  }
}

function placeholder(pos: number): Step {
  return { pos, from: -2, digest: 0, data: null, replay: false, incarnation: -1, sends: [], writes: [], reads: [], complete: false, sendLeft: [], writeReleased: [] };
}

/** What the wrapper needs to know about the incarnation it runs in. */
export interface ProbeEnv {
  readonly incarnation: number;
  readonly history: RankHistory;
  dead(): boolean;
  live(): boolean;
  /** Replay flag and payload digest of the delivery the host is handing over (set by the host adapter). */
  takeDelivery(): { replay: boolean; digest: number };
  /** Called with the rank's delivery number (all incarnations) before the app sees it; may crash the rank. */
  onDeliver(count: number): void;
  /** Called before each ctx.write; may crash the rank. */
  beforeWrite(): void;
}

/** Wrap `inner` for one incarnation; its state becomes `{ pos, app }`. */
export function probeApp(inner: App<unknown>, env: ProbeEnv): App<WrappedState> {
  const h = env.history;
  const pctx = (ctx: AppContext, step: Step): AppContext => ({
    rank: ctx.rank,
    size: ctx.size,
    send(to, data) {
      if (!env.dead()) step.sends.push({ to, digest: digestOf(serialize(data)) });
      ctx.send(to, data);
    },
    // Passes the app's form through: a value at once stays one (a probe must not turn it into a promise).
    read: (<T>(produce: () => T | Promise<T>): T | Promise<T> => {
      const note = (v: T): T => {
        if (!env.dead()) step.reads.push(serialize(v));
        return v;
      };
      const r = (ctx.read as <U>(p: () => U | Promise<U>) => U | Promise<U>)(produce);
      return r instanceof Promise ? r.then(note) : note(r);
    }) as AppContext["read"],
    write(data) {
      if (env.dead()) return ctx.write(data);
      step.writes.push(canonicalOf(data));
      env.beforeWrite();
      return ctx.write(data);
    },
    done: () => ctx.done(),
  });
  return {
    init(args: InitArgs): WrappedState {
      return { pos: 0, app: inner.init(args) };
    },
    async onStart(w, ctx) {
      const step = h.begin(env.incarnation, env.live(), 0, -1, 0, null, false);
      w.pos = 1;
      await inner.onStart?.(w.app, pctx(ctx, step));
      step.complete = true;
    },
    // Not async: a handler that settles synchronously stays synchronous, so
    // the protocols' synchronous delivery path (host.settled) is what runs.
    onMessage(w, msg: AppMessage, ctx) {
      const { replay, digest } = env.takeDelivery();
      env.onDeliver(h.deliveryCount + 1);
      // Crashed before the app saw it: the process is gone, the handler never runs or returns.
      if (env.dead()) return never();
      const pos = w.pos;
      w.pos = pos + 1;
      const step = h.begin(env.incarnation, env.live(), pos, msg.from, digest, serialize(msg.data), replay);
      const r = inner.onMessage(w.app, msg, pctx(ctx, step));
      if (r === undefined || r === null || typeof (r as Promise<void>).then !== "function") {
        step.complete = true;
        return undefined;
      }
      return (r as Promise<void>).then(() => {
        step.complete = true;
      });
    },
  };
}

/** The application's own state inside a captured wrapper state. */
export function unwrapState(bytes: Uint8Array): { pos: number; app: Uint8Array } {
  const w = decodeValue(bytes) as WrappedState;
  return { pos: w.pos, app: canonicalOf(w.app) };
}
