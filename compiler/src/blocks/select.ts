/**
 * Block selection: which block files implement a checked protocol, in chain
 * order (one global order, consistent with every hook's chain — Figure 5's
 * module order between the core's first and last steps), with the parameters
 * substituted for their `param()` calls and the spec span that caused each.
 *
 * Chain order is not placed here: selection decides which blocks and with
 * which parameters, and `selectBlocks` sorts them by their manifests' order
 * constraints (blocks/chain-order.ts; each constraint's reason is a comment
 * in the block's manifest). The same holds for the three family selectors.
 *
 * Protocols whose blocks are not built yet are refused with
 * UnsupportedProtocolError naming the construct (never silently weakened).
 * Every construct that may be refused is a row of the table in
 * docs/protocols.md ("Known gaps"); compiler/test/codegen-property.test.ts
 * fails on a refusal of a checker-valid spec that the table does not list.
 */
import type { CheckedProtocol, NonDetStatement, ProtocolIR, SourceSpan } from "../ir/types.js";
import { has, inst, scheduleBlock, selectReadLog, UnsupportedProtocolError, type BlockInstance } from "./select-common.js";
import { selectOptimistic } from "./optimistic/select-optimistic.js";
import { selectCheckpointOnly } from "./ckpt-only/select-ckpt-only.js";
import { selectCausal } from "./causal/select-causal.js";
import { mediaOf, type Media } from "./media.js";
import { pluginValueRefs } from "./plugin-values.js";
import { builtinRegistry } from "../registry/builtin-registry.js";
import type { Registry } from "../registry/types.js";
import { chainOrder, libraryOrder } from "./chain-order.js";
import { BLOCK_MANIFESTS } from "./block-manifests.js";
import { PLUGIN_PLACES, type PluginBlock } from "./plugin-blocks.js";
import type { BlockManifest } from "./manifest.js";

export { inst, NOT_SUPPORTED_YET, refusalMessage, scheduleBlock, selectReadLog, UnsupportedProtocolError, type BlockInstance } from "./select-common.js";

/**
 * Selection follows the checker's classification (the pipeline's classify
 * pass, the family `egida-gen check` prints, plugins included), so a spec is implemented by the blocks of the
 * family it was checked as: a pessimistic spec that also names orphan
 * detection is still pessimistic, never handed to the optimistic blocks.
 */
export function selectBlocks(input: CheckedProtocol, registry: Registry = builtinRegistry(), plugins: readonly PluginBlock[] = []): BlockInstance[] {
  const blocks = placePluginBlocks(selectUnordered(input, registry, plugins), input, registry, plugins);
  if (plugins.length === 0) return orderBlocks(blocks);
  const manifests: Record<string, BlockManifest> = { ...BLOCK_MANIFESTS };
  for (const p of plugins) manifests[p.file] = p.manifest;
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
 * A plugin value with a block file goes where the family's selector put the
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
  const family = input.classification.family;
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
  switch (family) {
    case "pessimistic":
      return selectPessimistic(ir, media);
    case "causal":
      return selectCausal(ir, media); // blocks/causal/select-causal.ts
    case "optimistic":
      return selectOptimistic(ir, media); // blocks/optimistic/select-optimistic.ts
    case "none":
      throw new UnsupportedProtocolError("a protocol without logging or checkpointing", ir.recovery.loc, "add a checkpoint statement (e.g. `Co-ordinated checkpoint synchronously on NFS disk`), or log receive determinants");
    default: {
      // checkpoint-*: no determinant is logged or piggybacked.
      const log = ir.dependencyGenerating.find((st) => st.log !== null)?.log ?? undefined;
      if (log !== undefined) {
        throw new UnsupportedProtocolError(
          "`Log` in a protocol that logs no determinant: checkpoint-only recovery rolls back to a consistent line and never replays, so nothing would read the log",
          log.loc,
          "remove the `Log` action; for message logging, declare the receive determinant too: `receive: determinant : {source, sesn, dest, desn}` then `Log determinant, message synchronously on NFS disk`",
          "E-checkpoint-only-log",
        );
      }
      const nd = ir.nonDeterministic[0];
      if (nd !== undefined) throw new UnsupportedProtocolError(`${nd.event} determinants that are neither logged nor piggybacked`, nd.loc, "add `Log determinant synchronously on NFS disk` under it, or remove the statement");
      return selectCheckpointOnly(ir); // blocks/ckpt-only/select-ckpt-only.ts
    }
  }
}

/**
 * Pessimistic logging: every determinant is on stable storage before its
 * event completes. What the spec adds that such a protocol can never use is
 * generated as nothing (the checker warns about each, and `explain` says so):
 * orphan detection and `On rollback` (no orphans and no live rollback exist),
 * `Piggyback determinants` (nothing is ever unstable when a message leaves,
 * so the piggyback would always be empty), determinants of send and write
 * (replay regenerates them), and a co-ordinated output commit (every
 * determinant an output depends on is already stable: the round would flush
 * nothing anywhere, so the independent commit is the same protocol).
 * Piggybacked clocks and an unread checkpoint counter are checker errors.
 */
function selectPessimistic(ir: ProtocolIR, media: Media): BlockInstance[] {
  // Each process recovers alone from its own latest checkpoint and log: a
  // co-ordinated or communication-induced protocol only schedules the
  // checkpoints (checkpoint/schedule.ts; docs/protocols.md, "Pessimistic
  // logging with co-ordinated or communication-induced checkpoints").
  const ckProto = ir.checkpoint?.proto;
  const scheduled = ckProto !== undefined && (ckProto.id === "coordinated" || ckProto.id === "communication-induced");
  if (ckProto !== undefined && ckProto.id !== "independent" && !scheduled) throw new UnsupportedProtocolError(`${ckProto.id} checkpointing with pessimistic logging`, ckProto.loc ?? ir.checkpoint?.loc, "use `Independent checkpoint ...`: with pessimistic logging each process recovers from its own latest checkpoint and log");
  const out: BlockInstance[] = [];

  // ---- non-deterministic events
  let found: BlockInstance | undefined;
  let readStmt: NonDetStatement | undefined;
  for (const st of ir.nonDeterministic) {
    if (st.event === "read") {
      readStmt = st;
      continue;
    }
    if (st.event !== "receive") continue; // W-deterministic-event-determinant: replay regenerates sends and writes
    const log = st.log;
    if (log === null || !has(log, "determinant")) throw new UnsupportedProtocolError("receive determinants not logged by their own statement", st.loc, "add `Log determinant synchronously on NFS disk` under the `receive: determinant` statement");
    if (log.how.id !== "synchronously") throw new UnsupportedProtocolError("asynchronous determinant logging (optimistic / hybrid causal)", log.how.loc ?? log.loc ?? st.loc, "log `synchronously` for pessimistic logging");
    if (!media.syncLog.has(log.where.id)) throw new UnsupportedProtocolError(`determinant logs on ${log.where.id}`, log.where.loc ?? log.loc ?? st.loc, `log on ${media.list(media.syncLog)}`);
    found = inst(
      "log/event-log.ts",
      "determinant",
      "LogEventDeterminant",
      `receive determinants${has(log, "message") ? " and message contents" : ""} logged ${log.how.id} on ${log.where.id}: appended before delivery, durable before a later send or output leaves (log/watermark)`,
      { "log.medium": log.where.id, "log.message": has(log, "message") },
      log.loc ?? st.loc,
    );
  }
  // E-receive-determinant-missing in the checker.
  if (found === undefined) throw new UnsupportedProtocolError("message logging without a receive determinant statement", ir.nonDeterministic[0]?.loc ?? ir.recovery.loc, "add `receive: determinant : {source, sesn, dest, desn}` then `Log determinant synchronously on NFS disk`");
  let eventLog: BlockInstance = found;

  // ---- dependency-generating events
  let senderLogLoc: SourceSpan | undefined;
  /** `send: Log message` on a medium that survives the sender: log/send-log.ts instead of core/transmit. */
  let durableSendLog: BlockInstance | undefined;
  for (const st of ir.dependencyGenerating) {
    for (const pb of st.piggyback) {
      // Always empty here (W-piggyback-determinants-redundant); clocks are E-dependency-tracking-unneeded.
      if (pb.id === "determinants") continue;
      // The index checkpoint/schedule.ts piggybacks on every send (E-checkpoint-counter-unread without a scheduled checkpoint).
      if (pb.id === "checkpoint-counter" && st.event === "send" && scheduled) continue;
      throw new UnsupportedProtocolError(`Piggyback ${pb.id} with pessimistic logging`, pb.loc ?? st.loc, "remove it from the Piggyback list");
    }
    const log = st.log;
    if (log === null) continue;
    const refuse = (construct: string, hint: string, code?: string): never => {
      throw new UnsupportedProtocolError(construct, log.loc ?? st.loc, hint, code);
    };
    switch (st.event) {
      case "write":
        continue; // W-not-dependency-generating: outputs are never replayed, nothing would read the log
      case "send":
        // A send's determinant is regenerated by replay (W-deterministic-event-determinant): only the message matters.
        if (!has(log, "message")) continue;
        senderLogLoc = log.loc ?? st.loc;
        if (log.where.id !== "volatile-memory-of-self") {
          if (!media.syncLog.has(log.where.id)) refuse(`a sender-based message log on ${log.where.id}`, `log sent messages on ${media.list(new Set([...media.syncLog, "volatile-memory-of-self"]))}`);
          const sync = log.how.id === "synchronously";
          durableSendLog = inst(
            "log/send-log.ts",
            "message",
            "LogEventInfo",
            `send: every message also logged on ${log.where.id}${sync ? ", durable before it leaves" : ", synced on the flush timer"}; recovery puts the records after the checkpoint back into the retransmission buffer`,
            { "slog.medium": log.where.id, "slog.sync": sync },
            senderLogLoc,
          );
        }
        continue;
      case "receive": {
        // Receiver-side contents log: the same record as `Log determinant, message` when it is as strong as the determinant log.
        // One log per event: the determinant's place is said once, by its
        // non-deterministic statement. Contents go in the same records;
        // recovery replays both from that one log, so a second, weaker or
        // elsewhere log of either would never be read.
        if (has(log, "determinant")) {
          refuse(
            "a second log of the receive determinant: the `receive: determinant` statement's `Log` already says where it goes (one log per event)",
            "remove `determinant` here; to log message contents with the determinant write `Log determinant, message ...` under the `receive: determinant` statement",
            "E-second-determinant-log",
          );
        }
        const medium = String(eventLog.params["log.medium"]);
        if (log.how.id !== "synchronously" || log.where.id !== medium) {
          refuse(
            `a receiver message log that is not synchronous on the determinant log's medium (\`${medium}\`): recovery replays the contents from the determinant's records`,
            `write \`Log message synchronously on ${media.spelling(medium)}\`, or \`Log determinant, message synchronously on ${media.spelling(medium)}\` under the \`receive: determinant\` statement`,
            "E-receiver-message-log",
          );
        }
        eventLog = { ...eventLog, params: { ...eventLog.params, "log.message": true }, reason: `${eventLog.reason}; message contents (receive: Log message) in the same records` };
        continue;
      }
      default:
        refuse(
          "`Log` in a `read:` dependency-generating statement: where read determinants go is said by a `read: determinant : {...}` statement",
          "write `read: determinant : {dest, desn}` followed by `Log determinant synchronously on NFS disk`, or drop this `Log` (reads are then logged like the receive determinants)",
          "E-read-log-statement",
        );
    }
  }

  const readLog = selectReadLog(readStmt, eventLog, media);

  // ---- output commit: only a write reaches the environment (W-output-commit-on-input)
  let commit: BlockInstance | undefined;
  for (const st of ir.outputCommit) {
    if (!st.events.includes("write")) continue;
    const reason = st.proto.id === "independent" ? "flush own determinants before output" : "flush own determinants before output; co-ordination would find every determinant the output depends on already stable (pessimistic), so none is asked for";
    commit = inst("commit/independent.ts", st.proto.id, "HowToOutputCommit", reason, {}, st.loc);
  }

  // ---- recovery: orphan detection and On rollback never run in a pessimistic protocol
  const rec = ir.recovery;
  const retrieve = rec.retrieveDeterminants?.id ?? "centralized";
  const readMedium = readStmt?.log?.where.id ?? eventLog.params["log.medium"];
  if (retrieve === "distributed" && (eventLog.params["log.medium"] !== "volatile-memory-of-processes" || readMedium !== "volatile-memory-of-processes")) {
    throw new UnsupportedProtocolError(
      "distributed determinant retrieval from a log the survivors hold no copy of",
      rec.retrieveDeterminants?.loc,
      "use `Protocol to retrieve determinants : centralized`, or log determinants on `volatile memory of processes`",
    );
  }
  if (retrieve !== "centralized" && retrieve !== "distributed") throw new UnsupportedProtocolError(`${retrieve} determinant retrieval`, rec.retrieveDeterminants?.loc, "use `Protocol to retrieve determinants : centralized`");

  // ---- checkpoints
  const ck = ir.checkpoint;
  const ckParams = {
    // Without a checkpoint statement the store is volatile: recovery replays from the initial state.
    "ckpt.medium": ck?.storage.id ?? "volatile-memory-of-self",
    "ckpt.sync": ck === null ? true : ck.how.id === "synchronously",
    "ckpt.incremental": ck === null ? false : ck.impl.id === "incremental",
  };

  // ---- the blocks (selectBlocks orders them)
  out.push(
    inst("core/ssn.ts", "core", "EventHandler", "per-channel send sequence numbers"),
    inst("core/receive.ts", "core", "EventHandler", "duplicate suppression and per-channel hold-back; a dropped duplicate of a delivered message is compared with it (non-determinism detection)", { "core.divergence": true }),
    inst("core/pump.ts", "core", "EventHandler", "one delivery at a time; replay in rsn order"),
    inst(
      "core/retransmit.ts",
      "core",
      senderLogLoc !== undefined ? "LogEventInfo" : "EventHandler",
      senderLogLoc !== undefined ? "send: sender-based message log in volatile memory, kept until the receiver reports it stable" : "retransmission buffer until the receiver reports messages stable",
      {},
      senderLogLoc,
    ),
    inst("core/output-seq.ts", "core", "EventHandler", "output numbering for the idempotent sink"),
    inst("core/timers.ts", "core", "EventHandler", "flush timer", { "flush.intervalMs": ir.options.flushIntervalMs }),
    inst("checkpoint/restore.ts", ck?.proto.id ?? "core", "Checkpoint", "restore the latest checkpoint on recovery", { "ckpt.medium": ckParams["ckpt.medium"], "ckpt.initAfterGather": false }, ck?.loc),
  );
  if (ck !== null && scheduled) out.push(scheduleBlock(ck));
  out.push(eventLog);
  if (readLog !== undefined) out.push(readLog);
  out.push(
    inst(
      "log/watermark.ts",
      "synchronously",
      "HowToLog",
      "pessimistic by the durable watermark: deliveries and reads append without waiting; a send or output leaves once a (group-committed) sync covers every record before it",
      { "wm.message": eventLog.params["log.message"]! },
      eventLog.loc,
    ),
  );
  out.push(
    inst(
      "collect/stable-log.ts",
      retrieve,
      "CollectDeterminants",
      retrieve === "distributed" ? "replay plan from the event log, fetched back from the f processes that hold its replicas" : "replay plan from the stable event log",
      {},
      rec.retrieveDeterminants?.loc ?? eventLog.loc,
    ),
  );
  if (durableSendLog !== undefined) out.push(durableSendLog);
  if (ck !== null && ck.proto.id === "coordinated") {
    out.push(inst("ckpt-only/snapshot.ts", "coordinated", "Checkpoint", "rank 0 starts a round on the checkpoint timer", { "ckpt.intervalMs": ir.options.checkpointIntervalMs }, ck.loc));
  } else if (ck !== null) {
    out.push(inst("checkpoint/independent.ts", ck.proto.id, "Checkpoint", ck.proto.id === "independent" ? "checkpoint on the local timer" : "basic checkpoints on the local timer", { "ckpt.intervalMs": ir.options.checkpointIntervalMs }, ck.loc));
  }
  if (commit !== undefined) out.push(commit);
  out.push(
    inst("core/recovery.ts", "core", "EventHandler", "announce the restored delivered vector; replay; go live"),
    inst("core/deliver.ts", "core", "EventHandler", "hand the message to the application", { "core.divergence": true }),
    ...(durableSendLog === undefined ? [inst("core/transmit.ts", "core", "EventHandler", "keep in the retransmission buffer and send (a held send once log/watermark releases it)")] : []),
    inst("core/output-emit.ts", "core", "EventHandler", "release the output"),
    inst("core/read.ts", "core", "EventHandler", "produce non-deterministic input"),
    inst("checkpoint/store.ts", ck?.how.id ?? "synchronously", "HowToCheckpoint", "write the checkpoint, then GC logs and notify senders", { "ckpt.sync": ckParams["ckpt.sync"], "ckpt.incremental": ckParams["ckpt.incremental"] }, ck?.loc),
  );
  return out;
}
