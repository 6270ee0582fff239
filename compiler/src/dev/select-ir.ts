/**
 * Selection and composition from a bare IR, for tests, scripts and the dev
 * composer: classify with the given registry (default: the built-ins), then
 * select. The compiler itself selects once, in the pipeline's select pass.
 */
import { compose } from "../blocks/compose.js";
import { selectBlocks, type BlockInstance } from "../blocks/select.js";
import type { ProtocolIR } from "../ir/types.js";
import { classify } from "../passes/classify.js";
import { builtinRegistry } from "../registry/builtin-registry.js";
import type { Registry } from "../registry/types.js";
import type { ProtocolFactory } from "@egida/runtime-core/spi";

export function selectForIR(ir: ProtocolIR, registry: Registry = builtinRegistry()): BlockInstance[] {
  return selectBlocks({ ir, classification: classify(ir, registry) }, registry);
}

/** Select and compose in one step (tests and benchmarks). */
export function composeFromIR(ir: ProtocolIR): ProtocolFactory {
  return compose(selectForIR(ir), { name: ir.name, defaultF: ir.options.f });
}
