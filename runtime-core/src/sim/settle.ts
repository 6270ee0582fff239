/**
 * Letting promise continuations settle between simulation events.
 *
 * Protocol code awaits simulated storage and timers. After the sim runs one
 * event, the continuations it released must run *before* the virtual clock
 * moves on, or their sends and timers would be stamped with a later time.
 *
 * A full settle (`setImmediate`: every microtask and nextTick has run by the
 * time the check phase fires) costs ~1.6 µs on a 2024 server, which alone
 * would cap the sim near 600k events/s. Most events (a frame to a
 * synchronous handler) create no promise at all, so in "auto" mode we watch
 * V8's promise hooks during the event and pay for a full settle only when the
 * event created or settled a promise. The decision depends only on what the
 * event's synchronous code did, so it is as deterministic as the code itself.
 *
 * Blind spot: work queued with bare `queueMicrotask`/`process.nextTick` (no
 * promise involved) is not detected; use `settle: "always"` for such code.
 */
import { promiseHooks } from "node:v8";

export type SettleMode = "auto" | "always";

/** Resolves once the microtask and nextTick queues have drained. */
export function fullSettle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Tracks whether any promise was created or settled since the last reset. */
export class PromiseActivity {
  private active = false;
  private stops: (() => void)[] = [];
  dirty = false;

  enable(): void {
    if (this.active) return;
    this.active = true;
    const mark = (): void => {
      this.dirty = true;
    };
    // @types/node types the stop functions as `Function`.
    this.stops = [promiseHooks.onInit(mark) as () => void, promiseHooks.onSettled(mark) as () => void];
  }

  disable(): void {
    if (!this.active) return;
    this.active = false;
    for (const stop of this.stops) stop();
    this.stops = [];
  }
}
