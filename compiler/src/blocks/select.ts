/**
 * Block selection: which block files implement a checked protocol, in chain
 * order (one global order, consistent with every hook's chain — Figure 5's
 * module order between the core's first and last steps), with the parameters
 * substituted for their `param()` calls and the spec span that caused each.
 *
 * Three steps, none of them code per block:
 * - the facts step of the spec's family (blocks/facts/<family>.ts) derives
 *   from the IR what the blocks need (media, logs, retrieval, checkpoints
 *   ...), and refuses what the family's blocks do not implement;
 * - the rule table (blocks/family-rules.ts) turns the facts into block
 *   instances: which blocks, with which ids, parameters, reasons and spans;
 * - `selectBlocks` puts plugin blocks in their places, checks that every
 *   selected block's `requires` is selected (blocks/requires.ts), and sorts
 *   the blocks by their manifests' order constraints (blocks/chain-order.ts;
 *   each constraint's reason is a comment in the block's manifest).
 *
 * Protocols whose blocks are not built yet are refused with
 * UnsupportedProtocolError naming the construct (never silently weakened).
 * Every construct that may be refused is a row of the table in
 * docs/protocols.md ("Known gaps"); compiler/test/codegen-property.test.ts
 * fails on a refusal of a checker-valid spec that the table does not list.
 */
import type { CheckedProtocol } from "../ir/types.js";
import { UnsupportedProtocolError, type BlockInstance } from "./select-common.js";
import { pessimisticFacts } from "./facts/pessimistic.js";
import { causalFacts } from "./facts/causal.js";
import { optimisticFacts } from "./facts/optimistic.js";
import { checkpointOnlyFacts } from "./facts/checkpoint-only.js";
import type { Facts } from "./facts/types.js";
import { selectByRules } from "./family-rules.js";
import { checkRequires } from "./requires.js";
import { mediaOf, type Media } from "./media.js";
import { pluginValueRefs } from "./plugin-values.js";
import { builtinRegistry } from "../registry/builtin-registry.js";
import type { Registry } from "../registry/types.js";
import { chainOrder, libraryOrder } from "./chain-order.js";
import { BLOCK_MANIFESTS } from "./block-manifests.js";
import { PLUGIN_PLACES, type PluginBlock } from "./plugin-blocks.js";
import type { BlockManifest } from "./manifest.js";

export { inst, NOT_SUPPORTED_YET, refusalMessage, UnsupportedProtocolError, type BlockInstance } from "./select-common.js";

/**
 * Selection follows the checker's classification (the pipeline's classify
 * pass, the family `egida-gen check` prints, plugins included), so a spec is implemented by the blocks of the
 * family it was checked as: a pessimistic spec that also names orphan
 * detection is still pessimistic, never handed to the optimistic blocks.
 */
export function selectBlocks(input: CheckedProtocol, registry: Registry = builtinRegistry(), plugins: readonly PluginBlock[] = []): BlockInstance[] {
  const blocks = placePluginBlocks(selectUnordered(input, registry, plugins), input, registry, plugins);
  if (plugins.length === 0) {
    checkRequires(blocks);
    return orderBlocks(blocks);
  }
  const manifests: Record<string, BlockManifest> = { ...BLOCK_MANIFESTS };
  for (const p of plugins) manifests[p.file] = p.manifest;
  refusePluginRequires(blocks, input, plugins);
  checkRequires(blocks, manifests);
  return orderBlocks(blocks, manifests);
}

let library: readonly string[] | undefined;

/** `blocks` in chain order: the manifests' constraints, ties by the library's global order (blocks/chain-order.ts). */
export function orderBlocks(blocks: readonly BlockInstance[], manifests: Readonly<Record<string, BlockManifest>> = BLOCK_MANIFESTS): BlockInstance[] {
  // With plugin blocks the global order is that of the merged library (computed per compile).
  const order = manifests === BLOCK_MANIFESTS ? (library ??= libraryOrder(BLOCK_MANIFESTS)) : libraryOrder(manifests);
  const byFile = new Map(blocks.map((b) => [b.file, b]));
  return chainOrder(blocks.map((b) => b.file), manifests, order).map((f) => byFile.get(f)!);
}

/**
 * A plugin value with a block file goes where the rule table put the
 * built-in block for the spec's value (PLUGIN_PLACES): that instance, which
 * already carries the plugin's id, gets the plugin's file and parameters.
 */
function placePluginBlocks(blocks: BlockInstance[], input: CheckedProtocol, registry: Registry, plugins: readonly PluginBlock[]): BlockInstance[] {
  for (const [variable, ref] of pluginValueRefs(input.ir, registry)) {
    const p = plugins.find((b) => b.variable === variable && b.id === ref.id);
    const builtin = PLUGIN_PLACES[variable]?.[input.classification.family];
    if (p === undefined || builtin === undefined) continue; // refused by refusePluginBlocks
    blocks = blocks.map((b) => (b.file === builtin && b.id === ref.id ? { ...b, file: p.file, params: p.params, reason: p.manifest.purpose } : b));
  }
  return blocks;
}

/**
 * A plugin block that requires a block this protocol's family does not
 * select: the plugin's manifest and the spec do not fit (a located refusal,
 * not the internal error of a built-in block's `requires`).
 */
function refusePluginRequires(blocks: readonly BlockInstance[], input: CheckedProtocol, plugins: readonly PluginBlock[]): void {
  const selected = new Set(blocks.map((b) => b.file));
  for (const b of blocks) {
    const p = plugins.find((x) => x.file === b.file);
    const missing = p?.manifest.requires?.find((r) => !selected.has(r));
    if (p === undefined || missing === undefined) continue;
    throw new UnsupportedProtocolError(
      `plugin block ${p.file} requires ${missing}, which a ${input.classification.family} protocol does not select`,
      b.loc,
      `remove ${missing} from the block's manifest \`requires\` if it can run without it, or use a built-in ${p.variable} value here`,
      "E-plugin-block",
    );
  }
}

/** A plugin block in a family where its variable's built-in block has no counterpart a file could replace. */
function refusePluginBlocks(input: CheckedProtocol, registry: Registry, plugins: readonly PluginBlock[]): void {
  const family = input.classification.family;
  for (const [variable, ref] of pluginValueRefs(input.ir, registry)) {
    if (!plugins.some((b) => b.variable === variable && b.id === ref.id)) continue;
    const places = PLUGIN_PLACES[variable];
    if (places?.[family] !== undefined) continue;
    throw new UnsupportedProtocolError(
      `plugin ${variable} \`${ref.id}\` in a ${family} protocol: its block has no place in this family`,
      ref.loc,
      places === undefined
        ? `a plugin block of ${variable} is not spliced; use a built-in ${variable} value`
        : `a plugin ${variable} block replaces ${Object.entries(places).map(([f, b]) => `${b} (${f})`).join(", ")}; use a built-in ${variable} value in a ${family} protocol`,
    );
  }
}

/** Which blocks implement the protocol, in no particular order. */
function selectUnordered(input: CheckedProtocol, registry: Registry, plugins: readonly PluginBlock[]): BlockInstance[] {
  const { ir } = input;
  // A plugin value other than a medium, without an analyzed block file, has no block here: refused,
  // never replaced by a built-in block.
  const plugin = pluginValueRefs(ir, registry).find(([v, ref]) => !plugins.some((p) => p.variable === v && p.id === ref.id));
  if (plugin !== undefined) {
    const [variable, ref] = plugin;
    throw new UnsupportedProtocolError(
      `plugin value \`${ref.id}\` (${variable}): only plugin storage media are generated`,
      ref.loc,
      registry.get(variable, ref.id)?.blockFile !== undefined
        ? "its block file is spliced by `egida-gen compile` (docs/plugins.md)"
        : `use a built-in ${variable} value; only a plugin value whose BlockDef names a \`block\` file is spliced (docs/plugins.md)`,
    );
  }
  refusePluginBlocks(input, registry, plugins);
  // Which media each log and checkpoint may use: the registry's storage traits (blocks/media.ts).
  const media = mediaOf(registry);
  // A medium that keeps no checkpoints (StorageTraits.checkpoints: false) would type-check and then
  // fail when the protocol opens its store. (Volatile memory of self is E-checkpoint-volatile-storage.)
  const ck = ir.checkpoint;
  if (ck !== null && !media.checkpoint.has(ck.storage.id)) {
    throw new UnsupportedProtocolError(
      `checkpoints on ${ck.storage.id}, a medium that keeps no checkpoints (its registry value says \`checkpoints: false\`)`,
      ck.storage.loc ?? ck.loc,
      `checkpoint on ${media.list(media.stableCheckpoint)}`,
      "E-checkpoint-medium",
    );
  }
  return selectByRules(familyFacts(input, media));
}

/**
 * The facts step of the spec's family (blocks/facts/): the facts the rule
 * table reads, or the refusal of what the family's blocks do not implement.
 */
function familyFacts(input: CheckedProtocol, media: Media): Facts {
  const { ir } = input;
  switch (input.classification.family) {
    case "pessimistic":
      return pessimisticFacts(ir, media);
    case "causal":
      return causalFacts(ir, media);
    case "optimistic":
      return optimisticFacts(ir, media);
    case "none":
      throw new UnsupportedProtocolError("a protocol without logging or checkpointing", ir.recovery.loc, "add a checkpoint statement (e.g. `Co-ordinated checkpoint synchronously on NFS disk`), or log receive determinants");
    default:
      return checkpointOnlyFacts(ir); // checkpoint-*: no determinant is logged or piggybacked
  }
}
