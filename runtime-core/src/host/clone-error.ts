/**
 * What the app passed to ctx.send / ctx.write could not be serialized
 * (structured clone): one line naming the call, the value's type and the
 * likely cause, instead of v8's "#<Promise> could not be cloned" and the
 * runtime's frames under it.
 */

/** The type of `data` as a reader would name it: "a Promise", "a function", "a Socket"... */
function describe(data: unknown): string {
  if (typeof data === "function") return "a function";
  if (typeof data === "symbol") return "a symbol";
  if (data instanceof Promise || (typeof data === "object" && data !== null && typeof (data as { then?: unknown }).then === "function")) return "a Promise";
  if (typeof data === "object" && data !== null) {
    const name = Object.getPrototypeOf(data)?.constructor?.name as string | undefined;
    return name && name !== "Object" ? `a ${name}` : "an object with a value that cannot be cloned";
  }
  return `a ${typeof data}`;
}

function hint(what: string): string {
  if (what.endsWith("a Promise")) return "did you forget `await` before ctx.read(...) or another async call?";
  if (what.endsWith("a function")) return "send the data the function computes, not the function";
  return "send plain data: numbers, strings, arrays, plain objects, Map, Set, typed arrays";
}

/**
 * The error for a value `call` (e.g. "ctx.send(1, …)") could not serialize: a TypeError whose stack is
 * its message and the app's call site only (`caller`'s frames and the runtime's are cut).
 */
export function cloneError(call: string, data: unknown, cause: unknown, caller: (...args: never[]) => unknown): TypeError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  let what = describe(data);
  // A plain object or array holding the culprit: v8 names it (`#<Promise> could not be cloned.`).
  const inner = /#<(\w+)>/.exec(detail)?.[1] ?? (/^(?:async )?(?:function|\(|\w+\s*=>)/.test(detail) ? "function" : undefined);
  if ((what.startsWith("an object") || what === "a Array") && inner !== undefined) what = `a value holding ${inner === "function" ? "a function" : `a ${inner}`}`;
  const verb = call.startsWith("ctx.write") ? "written" : "sent";
  const err = new TypeError(`${call}: ${what} cannot be ${verb} (${detail}) — ${hint(what)}`);
  Error.captureStackTrace(err, caller);
  const lines = (err.stack ?? "").split("\n");
  const at = lines.find((l) => l.trimStart().startsWith("at "));
  err.stack = at === undefined ? `${err.name}: ${err.message}` : `${err.name}: ${err.message}\n${at}`;
  return err;
}
