/**
 * The JSON Schemas shipped in compiler/schema/, compiled once with ajv
 * (draft 2020-12). Both src/config/ and dist/config/ sit two levels below the
 * package root, so one relative URL serves tests and the built package.
 */
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv";

export type SchemaName = "ir" | "block" | "config";

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const compiled = new Map<SchemaName, ValidateFunction>();

export function schemaUrl(name: SchemaName): URL {
  return new URL(`../../schema/${name}.schema.json`, import.meta.url);
}

export function validator(name: SchemaName): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    v = ajv.compile(JSON.parse(readFileSync(schemaUrl(name), "utf8")) as object);
    compiled.set(name, v);
  }
  return v;
}

/** An ajv error as a sentence: "/options/f must be <= 255". */
export function describeAjvError(e: ErrorObject): { path: string; message: string } {
  const path = e.instancePath === "" ? "/" : e.instancePath;
  let message = e.message ?? "is invalid";
  if (e.keyword === "additionalProperties") message = `has unknown property \`${String(e.params["additionalProperty"])}\``;
  else if (e.keyword === "enum") message = `must be one of ${(e.params["allowedValues"] as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  else if (e.keyword === "required") message = `is missing required property \`${String(e.params["missingProperty"])}\``;
  return { path, message: `${path} ${message}` };
}

/**
 * The errors worth showing: ajv reports every failed `oneOf` branch; keep
 * the deepest errors (the most specific place), at most `max`.
 */
export function relevantErrors(errors: readonly ErrorObject[] | null | undefined, max = 10): ErrorObject[] {
  const list = (errors ?? []).filter((e) => e.keyword !== "oneOf" && e.keyword !== "if");
  const seen = new Set<string>();
  const out: ErrorObject[] = [];
  for (const e of list) {
    // Skip "must be null" from a nullable oneOf when the value is an object with a deeper error.
    if (e.keyword === "type" && e.params["type"] === "null" && list.some((o) => o !== e && o.instancePath.startsWith(e.instancePath) && o.keyword !== "type")) continue;
    const key = `${e.instancePath}|${e.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
    if (out.length >= max) break;
  }
  return out;
}
