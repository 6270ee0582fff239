/**
 * Semantic checks: the protocol parses, but can it recover, and does every
 * statement do something? Each group lives in its own `check-*.ts` file with
 * the rule behind every diagnostic written next to it.
 *
 * Severity policy: an error means some crash leaves the system unrecoverable
 * or inconsistent (or the spec asks for something that does not exist); a
 * warning means the protocol works but a statement is useless, costly, or
 * weakens a guarantee the family would otherwise give.
 */
import type { Diagnostic } from "../diagnostics/types.js";
import { selectBlocks, UnsupportedProtocolError } from "../blocks/select.js";
import type { Classification, ProtocolIR } from "../ir/types.js";
import type { Registry } from "../registry/types.js";
import { checkCheckpoint } from "./check-checkpoint.js";
import { createContext } from "./check-context.js";
import { checkEvents } from "./check-events.js";
import { deriveFacts, type ProtocolFacts } from "./check-facts.js";
import { checkFamilies } from "./check-families.js";
import { checkGenerate } from "./check-generate.js";
import { checkRecoverability } from "./check-recoverability.js";
import { checkStorage } from "./check-storage.js";
import { classifyFacts } from "./classify.js";

export interface CheckOptions {
  /**
   * Run block selection and report its refusals (check-generate.ts). Default
   * true; false only for tools that study the refusals themselves
   * (the property test, scripts/spec-gap.ts).
   */
  readonly generator?: boolean;
}

/**
 * Check one IR on its own (tests, tools): the same steps as the pipeline's
 * facts, classify, check, select and check-generate passes
 * (compiler/src/pipeline/), which is what the CLI, the plugin and regen run.
 */
export function checkProtocol(ir: ProtocolIR, registry: Registry, file: string, opts: CheckOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const facts = deriveFacts(ir, registry);
  const cls = classifyFacts(facts);
  runCheckGroups(facts, cls, registry, file, out);
  // Last, on an otherwise valid spec: a checker-valid spec always generates.
  if (opts.generator !== false && !out.some((d) => d.severity === "error")) {
    try {
      selectBlocks({ ir, classification: cls }, registry);
    } catch (e: unknown) {
      if (!(e instanceof UnsupportedProtocolError)) throw e; // a bug in selection, not the user's mistake
      checkGenerate(facts, registry, file, cls, e, out);
    }
  }
  return sortDiagnostics(out);
}

/** The check groups, in order; findings are appended to `out`. */
export function runCheckGroups(facts: ProtocolFacts, cls: Classification, registry: Registry, file: string, out: Diagnostic[]): void {
  const ctx = createContext(facts, registry, file, out);
  checkEvents(ctx);
  checkStorage(ctx);
  checkRecoverability(ctx);
  checkCheckpoint(ctx);
  checkFamilies(ctx, cls);
}

/** Source order, so users read diagnostics top to bottom; errors first at the same place. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  const key = (d: Diagnostic) => d.loc?.offset ?? Number.MAX_SAFE_INTEGER;
  return ds
    .map((d, i) => ({ d, i }))
    .sort((a, b) => key(a.d) - key(b.d) || (a.d.path ?? "").localeCompare(b.d.path ?? "") || sev(a.d) - sev(b.d) || a.i - b.i)
    .map((x) => x.d);
}

const sev = (d: Diagnostic) => (d.severity === "error" ? 0 : 1);
