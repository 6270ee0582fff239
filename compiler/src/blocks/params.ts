/**
 * Block parameters. Block bodies read them with `param<T>("name")`; the
 * emitters replace each call with a literal from the block instance's
 * parameters. At dev time (the composer, tests) the call reads the table the
 * composer installed. Parameter names are global across the blocks of one
 * protocol (the composer rejects conflicting values), so a read after an
 * `await` in a block body still sees its own value.
 */
export type ParamValue = number | string | boolean;

let table: ReadonlyMap<string, ParamValue> = new Map();

/** Installed by the dev composer before it runs any hook. */
export function installParams(params: ReadonlyMap<string, ParamValue>): void {
  table = params;
}

export function param<T extends ParamValue>(name: string): T {
  const v = table.get(name);
  if (v === undefined) throw new Error(`block parameter "${name}" is not set (selectBlocks must provide it)`);
  return v as T;
}
