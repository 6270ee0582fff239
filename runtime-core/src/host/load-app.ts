/**
 * Load and check an application module: an ESM module whose default export
 * is `{ init(args), onStart?(state, ctx), onMessage(state, msg, ctx) }`.
 */
import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { App } from "../spi.js";
import { AppLoadError } from "./errors.js";
import { defaultExport, ensureTsx, isTypeScriptFile } from "./tsx.js";

export async function loadApp(file: string): Promise<App<unknown>> {
  const abs = resolve(file);
  const name = basename(abs);
  try {
    const st = await stat(abs);
    if (!st.isFile()) throw new AppLoadError(`${name}: not a file (${abs})`);
  } catch (e) {
    if (e instanceof AppLoadError) throw e;
    throw new AppLoadError(`${name}: cannot read application module ${abs}`);
  }
  if (isTypeScriptFile(abs)) {
    try {
      await ensureTsx(abs);
    } catch (e) {
      throw new AppLoadError(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new AppLoadError(`${name}: failed to load: ${why}`);
  }
  return checkApp(defaultExport(mod), name);
}

/** Validate the shape of an application object; `name` is used in the message. */
export function checkApp(app: unknown, name: string): App<unknown> {
  const o = app as Partial<Record<keyof App, unknown>> | null | undefined;
  if (
    o === null ||
    (typeof o !== "object" && typeof o !== "function") ||
    typeof o.init !== "function" ||
    typeof o.onMessage !== "function" ||
    (o.onStart !== undefined && typeof o.onStart !== "function")
  ) {
    throw new AppLoadError(
      `${name}: default export must have init(args) and onMessage(state, msg, ctx) (and optionally onStart(state, ctx))`,
    );
  }
  return o as App<unknown>;
}
