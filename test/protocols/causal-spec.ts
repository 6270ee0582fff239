/** Causal crash tests: load a spec from text through the real front end (parse → lower), like spec.ts. */
import { parse } from "../../compiler/src/parse/parse.js";
import { lower } from "../../compiler/src/passes/lower.js";
import { builtinRegistry } from "../../compiler/src/registry/builtin-registry.js";
import type { ProtocolIR } from "../../compiler/src/ir/types.js";

export function specFromText(text: string, overrides: Partial<ProtocolIR["options"]> = {}): ProtocolIR {
  const p = parse(text, "inline.egida");
  if (p.ast === null) throw new Error(p.diagnostics.map((d) => d.message).join("; "));
  const { ir, diagnostics } = lower(p.ast, "inline.egida", builtinRegistry());
  const errs = diagnostics.filter((d) => d.severity === "error");
  if (ir === null || errs.length > 0) throw new Error(errs.map((d) => d.message).join("; "));
  return { ...ir, options: { ...ir.options, ...overrides } };
}

/** family-based-causal.egida's body with a chosen f. */
export const familyBased = (f: number): string => `protocol fbl-f${f} (f = ${f})
receive: determinant : {source, sesn, dest, desn}
Independent output commit on write
send: Piggyback determinants, dependency matrix
Log message synchronously on volatile memory of self
Independent checkpoint asynchronously on NFS disk
Implementation : incremental
Protocol to retrieve determinants : distributed
`;

/** Figure 3b with a chosen f. */
export const hybrid = (f: number): string => `protocol hybrid-f${f} (f = ${f})
receive: determinant : {source, sesn, dest, desn}
Log determinant, data asynchronously on NFS disk
send: Piggyback determinants
Log message synchronously on volatile memory of self
Protocol to retrieve determinants : centralized
`;

/** Family-based logging with a stability vector instead of the dependency matrix, chosen f. */
export const stabilityVector = (f: number): string => familyBased(f).replace("protocol fbl-", "protocol fbl-sv-").replace("dependency matrix", "stability vector");

/** Family-based logging with a stability matrix instead of the dependency matrix, chosen f; reads declared explicitly. */
export const stabilityMatrix = (f: number): string =>
  familyBased(f)
    .replace("protocol fbl-", "protocol fbl-sm-")
    .replace("dependency matrix", "stability matrix")
    .replace("receive: determinant : {source, sesn, dest, desn}\n", "receive: determinant : {source, sesn, dest, desn}\nread: determinant : {source, sesn, dest, desn}\n");

/** Family-based logging (dependency matrix) with co-ordinated checkpoints (checkpoint/schedule.ts), chosen f. */
export const fblCoordinated = (f: number): string => familyBased(f).replace("protocol fbl-", "protocol fbl-coord-").replace("Independent checkpoint", "Co-ordinated checkpoint");

/** Figure 3b with communication-induced checkpoints (the index piggybacked), chosen f. */
export const hybridCic = (f: number): string =>
  hybrid(f)
    .replace("protocol hybrid-", "protocol hybrid-cic-")
    .replace("send: Piggyback determinants\n", "send: Piggyback determinants, checkpoint counter\n")
    .replace("Protocol to retrieve determinants : centralized", "Communication-induced checkpoint asynchronously on NFS disk\nImplementation : full\nProtocol to retrieve determinants : centralized");
