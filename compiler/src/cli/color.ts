/**
 * Colour policy for stderr: off unless it is a terminal; `NO_COLOR` (any
 * non-empty value, no-color.org) turns it off; `FORCE_COLOR` overrides both
 * (as in Node itself): `FORCE_COLOR=0`/`false` forces it off, any other value on.
 */
export function useColor(env: Readonly<Record<string, string | undefined>>, isTTY: boolean): boolean {
  const force = env["FORCE_COLOR"];
  if (force !== undefined) return !(force === "0" || force.toLowerCase() === "false");
  const no = env["NO_COLOR"];
  if (no !== undefined && no !== "") return false;
  return isTTY;
}
