/**
 * The values a spec names, by variable, and which come from plugins
 * (egida.config.json). Only a plugin medium is generated (its runtime store
 * is the plugin's, docs/plugins.md); any other plugin value would need block
 * code of its own, which the emitter cannot splice, so selection refuses it
 * at its place instead of generating a built-in block in its stead.
 */
import type { BlockRef, LogAction, ProtocolIR } from "../ir/types.js";
import type { Registry, Variable } from "../registry/types.js";

/** Every value the spec names, with its variable, in spec order. */
export function valueRefs(ir: ProtocolIR): Array<[Variable, BlockRef]> {
  const refs: Array<[Variable, BlockRef | null | undefined]> = [];
  const log = (l: LogAction | null) => {
    if (l === null) return;
    for (const i of l.info) refs.push(["event-info", i]);
    refs.push(["how-to-log", l.how], ["storage", l.where]);
  };
  for (const st of ir.nonDeterministic) log(st.log);
  for (const st of ir.outputCommit) refs.push(["output-commit-proto", st.proto]);
  for (const st of ir.dependencyGenerating) {
    for (const pb of st.piggyback) refs.push(["pb-value", pb], ["pb-tracking", pb.tracking]);
    log(st.log);
  }
  const ck = ir.checkpoint;
  if (ck !== null) refs.push(["ckpt-proto", ck.proto], ["how-to-ckpt", ck.how], ["storage", ck.storage], ["ckpt-impl", ck.impl]);
  const rec = ir.recovery;
  refs.push(["recovery-get-det-proto", rec.retrieveDeterminants], ["orphan-detection-proto", rec.orphanDetection]);
  if (rec.onRollback !== null) {
    for (const i of rec.onRollback.info) refs.push(["event-info", i]);
    refs.push(["storage", rec.onRollback.storage]);
  }
  return refs.filter((r): r is [Variable, BlockRef] => r[1] !== null && r[1] !== undefined);
}

/** The spec's plugin values; storage media only with `media` (they are generated). */
export function pluginValueRefs(ir: ProtocolIR, registry: Registry, media = false): Array<[Variable, BlockRef]> {
  return valueRefs(ir).filter(([variable, ref]) => {
    if (variable === "storage" && !media) return false;
    const origin = registry.get(variable, ref.id)?.origin;
    return origin !== undefined && origin !== "egida-gen";
  });
}
