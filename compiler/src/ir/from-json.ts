/**
 * IR read from a `.json` file: JSON syntax, then the JSON Schema, then every
 * block id against the registry. Diagnostics carry a JSON pointer `path` and,
 * where it can be found, the location in the JSON text.
 */
import type { Diagnostic } from "../diagnostics/types.js";
import { suggest } from "../diagnostics/suggest.js";
import { locateJsonPath } from "../config/json-locate.js";
import { describeAjvError, relevantErrors, validator } from "../config/schemas.js";
import { positionAt } from "../parse/decode.js";
import { VARIABLE_NAMES } from "../registry/registry.js";
import type { Registry, Variable } from "../registry/types.js";
import type { BlockRef, ProtocolIR } from "./types.js";

export function irFromJson(text: string, file: string, registry: Registry): { ir: ProtocolIR | null; diagnostics: Diagnostic[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e: unknown) {
    const msg = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(msg);
    const loc = positionAt(text, pos ? Number(pos[1]) : 0);
    return {
      ir: null,
      diagnostics: [{ severity: "error", code: "E-json", message: `not valid JSON: ${msg}`, file, path: "", loc: { ...loc, endOffset: loc.offset + 1 }, hint: "an IR file is the JSON printed by `egida-gen check --json`" }],
    };
  }
  const validate = validator("ir");
  if (!validate(json)) {
    const diagnostics = relevantErrors(validate.errors).map((e): Diagnostic => {
      const { path, message } = describeAjvError(e);
      return { severity: "error", code: "E-schema", message: `IR ${message}`, file, path, loc: locateJsonPath(text, e.instancePath), hint: "see compiler/schema/ir.schema.json" };
    });
    return { ir: null, diagnostics };
  }
  const ir = json as ProtocolIR;
  const diagnostics: Diagnostic[] = [];
  const check = (variable: Variable, ref: BlockRef | null | undefined, path: string) => {
    if (!ref || registry.get(variable, ref.id)) return;
    const known = registry.values(variable).map((b) => b.id);
    const guess = suggest(ref.id, known);
    diagnostics.push({
      severity: "error",
      code: "E-unknown-value",
      message: `unknown ${VARIABLE_NAMES[variable]} id \`${ref.id}\`; known ids: ${known.join(", ")}`,
      file,
      path: `${path}/id`,
      loc: locateJsonPath(text, `${path}/id`),
      hint: guess ? `did you mean \`${guess}\`?` : "register it with a plugin named in egida.config.json",
    });
  };
  const checkLog = (log: ProtocolIR["nonDeterministic"][number]["log"], path: string) => {
    if (!log) return;
    log.info.forEach((r, i) => check("event-info", r, `${path}/info/${i}`));
    check("how-to-log", log.how, `${path}/how`);
    check("storage", log.where, `${path}/where`);
  };
  ir.nonDeterministic.forEach((s, i) => checkLog(s.log, `/nonDeterministic/${i}/log`));
  ir.outputCommit.forEach((s, i) => check("output-commit-proto", s.proto, `/outputCommit/${i}/proto`));
  ir.dependencyGenerating.forEach((s, i) => {
    s.piggyback.forEach((p, j) => {
      check("pb-value", p, `/dependencyGenerating/${i}/piggyback/${j}`);
      check("pb-tracking", p.tracking, `/dependencyGenerating/${i}/piggyback/${j}/tracking`);
    });
    checkLog(s.log, `/dependencyGenerating/${i}/log`);
  });
  if (ir.checkpoint) {
    check("ckpt-proto", ir.checkpoint.proto, "/checkpoint/proto");
    check("how-to-ckpt", ir.checkpoint.how, "/checkpoint/how");
    check("storage", ir.checkpoint.storage, "/checkpoint/storage");
    check("ckpt-impl", ir.checkpoint.impl, "/checkpoint/impl");
  }
  check("recovery-get-det-proto", ir.recovery.retrieveDeterminants, "/recovery/retrieveDeterminants");
  check("orphan-detection-proto", ir.recovery.orphanDetection, "/recovery/orphanDetection");
  if (ir.recovery.onRollback) {
    ir.recovery.onRollback.info.forEach((r, i) => check("event-info", r, `/recovery/onRollback/info/${i}`));
    check("storage", ir.recovery.onRollback.storage, "/recovery/onRollback/storage");
  }
  return { ir: diagnostics.length > 0 ? null : ir, diagnostics };
}
