/**
 * Bounds what a noisy, attacker-driven source logs. Anyone who can reach a
 * rank's port can open connections that never authenticate; logging each
 * refusal let 13k idle connections write ~11k lines. A LogLimiter lets
 * `burst` lines through per window and then counts the rest, writing one
 * summary line when the window ends (or on `flush`), so a window costs at
 * most `burst + 1` lines however many connections arrive.
 */
export class LogLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private inWindow = 0;
  private suppressed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: (msg: string) => void,
    /** Summary wording: `${n} more ${what} in the last N s`. */
    private readonly what: string,
    private readonly burst = 5,
    private readonly windowMs = 10_000,
  ) {}

  /** Log `msg`, or count it when this window's burst is used up. */
  line(msg: string): void {
    const now = performance.now();
    if (now - this.windowStart >= this.windowMs) {
      this.flush();
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow < this.burst) {
      this.inWindow++;
      this.out(msg);
      return;
    }
    this.suppressed++;
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.windowStart + this.windowMs - now));
      this.timer.unref();
    }
  }

  /** Write the summary of what was counted, if anything (at window end, and on close). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.suppressed === 0) return;
    const n = this.suppressed;
    this.suppressed = 0;
    this.out(`${n} more ${this.what} in the last ${Math.round(this.windowMs / 1000)} s (not logged one by one)`);
  }
}
