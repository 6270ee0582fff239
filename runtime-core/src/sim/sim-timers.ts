import type { Timers } from "../spi.js";

/** What a rank's timers need from the world. */
export interface TimerHost {
  readonly now: number;
  /** Schedule `fn` at virtual time `at` for this incarnation; returns a cancel function. */
  scheduleTimer(rank: number, generation: number, at: number, fn: () => void): () => void;
}

/**
 * `Timers` on the world's virtual clock, bound to one incarnation of a rank:
 * when that incarnation crashes, its pending timers never fire (the world
 * checks the generation), and new ones are silently ignored.
 */
export class SimTimers implements Timers {
  constructor(
    private readonly host: TimerHost,
    private readonly rank: number,
    private readonly generation: number,
  ) {}

  now(): number {
    return this.host.now;
  }

  after(ms: number, fn: () => void): () => void {
    return this.host.scheduleTimer(this.rank, this.generation, this.host.now + Math.max(0, ms), fn);
  }

  every(ms: number, fn: () => void): () => void {
    // A zero period would make virtual time stand still forever.
    if (!(ms > 0)) throw new RangeError(`every(${ms}): the period must be > 0`);
    let cancelled = false;
    let cancelCurrent: () => void = () => {};
    const arm = (): void => {
      cancelCurrent = this.after(ms, () => {
        if (cancelled) return;
        arm(); // re-arm first so `fn` may cancel
        fn();
      });
    };
    arm();
    return () => {
      cancelled = true;
      cancelCurrent();
    };
  }
}
