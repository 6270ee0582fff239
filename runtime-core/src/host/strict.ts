/**
 * `--strict`: Math.random() and Date.now() throw inside application
 * handlers (init, onStart, onMessage, and their continuations after an
 * await), with a hint to use ctx.read. Inside a ctx.read producer they work:
 * that is where inputs belong.
 *
 * The handler's extent is an AsyncLocalStorage store (it follows the
 * handler's awaits), so in the simulator, where every rank shares one
 * process, only application code of a strict host is affected; the calls the
 * host makes into the protocol (send, read, write) and the producer of a read
 * run outside the store. The globals are wrapped once per process, the first
 * time a strict host starts; outside a handler the wrappers only look the
 * store up.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** The rank whose handler is running (under --strict), or nothing. */
const handler = new AsyncLocalStorage<number>();
let installed = false;

/** The error a strict handler gets: its message and the app's call site only. */
export class StrictModeError extends Error {
  override readonly name = "StrictModeError";
}

function refuse(call: string, example: string, caller: (...args: never[]) => unknown, rank: number): StrictModeError {
  const err = new StrictModeError(
    `${call} called in a handler of rank ${rank} under --strict: recovery re-executes handlers, and this value would differ then. ` +
      `Read it with ctx.read: ${example}`,
  );
  Error.captureStackTrace(err, caller);
  const at = (err.stack ?? "").split("\n").find((l) => l.trimStart().startsWith("at "));
  err.stack = at === undefined ? `${err.name}: ${err.message}` : `${err.name}: ${err.message}\n${at}`;
  return err;
}

function install(): void {
  if (installed) return;
  installed = true;
  const random = Math.random;
  const now = Date.now;
  Math.random = function random$strict(): number {
    const rank = handler.getStore();
    if (rank !== undefined) throw refuse("Math.random()", "const r = ctx.read(() => Math.random())", random$strict, rank);
    return random();
  };
  Date.now = function now$strict(): number {
    const rank = handler.getStore();
    if (rank !== undefined) throw refuse("Date.now()", "const t = ctx.read(() => Date.now())", now$strict, rank);
    return now();
  };
}

/** Run an application handler of `rank` under strict mode. */
export function inStrictHandler<T>(rank: number, fn: () => T): T {
  install();
  return handler.run(rank, fn);
}

/** Run runtime or protocol code (or a ctx.read producer) outside any strict handler. */
export function outsideStrictHandler<T>(fn: () => T): T {
  return handler.getStore() === undefined ? fn() : handler.exit(fn);
}
