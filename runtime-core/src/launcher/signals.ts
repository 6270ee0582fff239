/**
 * SIGINT and SIGTERM stop a job cleanly: the ranks are stopped, the storage
 * is kept and named, and egida-run exits 128 + the signal number (130, 143),
 * as a shell reports a process killed by that signal.
 */
import { EXIT_CODES, type InterruptSignal } from "../host/errors.js";

export const INTERRUPT_SIGNALS: readonly InterruptSignal[] = ["SIGINT", "SIGTERM"];

/**
 * Call `stop` on the first SIGINT or SIGTERM. The handlers stay installed
 * until the returned function removes them; a second signal while the job is
 * stopping (an impatient second Ctrl-C) exits at once with its code.
 */
export function onInterrupt(stop: (signal: InterruptSignal) => void): () => void {
  let fired = false;
  const handlers = INTERRUPT_SIGNALS.map((sig) => {
    const h = (): void => {
      if (fired) process.exit(EXIT_CODES[sig]);
      fired = true;
      stop(sig);
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}
