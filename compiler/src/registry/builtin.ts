/**
 * The built-in blocks: every value of the paper's Figure 2, registered once.
 * Bindings name the ES module and export that implement the block; the code
 * generator imports them (the runtime side is written against these names).
 */
import type { BlockDef, PaperModule, Variable } from "./types.js";

const RUNTIME = "@egida/runtime-core";

function block(
  variable: Variable,
  id: string,
  spellings: readonly string[],
  module: PaperModule,
  exportName: string,
  description: string,
  extra: Partial<Pick<BlockDef, "params" | "storage">> = {},
): BlockDef {
  return { variable, id, spellings, module, description, binding: { module: RUNTIME, export: exportName }, origin: "egida-gen", ...extra };
}

export const BUILTIN_BLOCKS: readonly BlockDef[] = [
  // output-commit-proto
  block("output-commit-proto", "independent", ["independent"], "HowToOutputCommit", "independentOutputCommit",
    "Make this process's own determinants stable before output leaves."),
  block("output-commit-proto", "coordinated", ["co-ordinated", "coordinated"], "HowToOutputCommit", "coordinatedOutputCommit",
    "Ask every process this one causally depends on to make its determinants stable before output leaves."),

  // event-info
  block("event-info", "determinant", ["determinant"], "LogEventDeterminant", "determinantLog",
    "The determinant of the event ({source, sesn, dest, desn}, plus the value read for `read`)."),
  block("event-info", "message", ["message", "data"], "LogEventInfo", "messageLog",
    "The contents of the message (the paper's Figure 3 also writes `data`)."),

  // how-to-log
  block("how-to-log", "synchronously", ["synchronously"], "HowToLog", "synchronousLogging",
    "The event completes only once the record is on the named storage."),
  block("how-to-log", "asynchronously", ["asynchronously"], "HowToLog", "asynchronousLogging",
    "The record is buffered and flushed later (flush timer or output commit)."),

  // storage (stable-storage and volatile-storage of Figure 2)
  block("storage", "local-disk", ["local disk"], "StableStorage", "openLocalDiskLog",
    "A file on this host's disk: survives a process crash, not the loss of the host.",
    {
      storage: { stable: true, volatileAllowed: true },
      params: { dir: { type: "string", default: ".egida/local", description: "Directory of the log files, per rank." } },
    }),
  block("storage", "nfs-disk", ["NFS disk"], "StableStorage", "openNfsLog",
    "A file on a disk shared by all hosts (NFS): survives the crash of any process.",
    {
      storage: { stable: true, volatileAllowed: false, shared: true },
      params: { dir: { type: "string", default: ".egida/nfs", description: "Shared directory (the NFS mount)." } },
    }),
  block("storage", "volatile-memory-of-self", ["volatile memory of self"], "VolatileStorage", "openVolatileLog",
    "This process's memory: lost when it crashes.",
    { storage: { stable: false, volatileAllowed: true } }),
  block("storage", "volatile-memory-of-processes", ["volatile memory of processes"], "StableStorage", "openReplicatedLog",
    "The memories of f other processes; a write completes after f acknowledgements.",
    {
      storage: { stable: true, volatileAllowed: false, needsF: true },
      params: { f: { type: "integer", default: 1, description: "Acknowledgements to wait for (the protocol's f)." } },
    }),

  // pb-value
  block("pb-value", "determinants", ["determinants"], "PiggybackLogging", "piggybackDeterminants",
    "Causal logging: piggyback the determinants the receiver may depend on that are not yet stable.",
    { params: { tracking: { type: "string", description: "Optional stability-tracking block (a pb-tracking value written after a comma)." } } }),
  block("pb-value", "vector-clock", ["vector clock"], "PiggybackLogging", "piggybackVectorClock",
    "Dependency tracking by vector clock (optimistic logging)."),
  block("pb-value", "logical-clock", ["logical clock"], "PiggybackLogging", "piggybackLogicalClock",
    "Dependency tracking by logical clock (optimistic logging)."),
  block("pb-value", "checkpoint-counter", ["checkpoint counter"], "PiggybackCheckpointing", "piggybackCheckpointCounter",
    "The sender's checkpoint index (communication-induced checkpointing)."),

  // pb-tracking: the optional modifier of `determinants`
  block("pb-tracking", "dependency-matrix", ["dependency matrix"], "PiggybackLogging", "dependencyMatrixTracking",
    "Track which processes hold which determinants with a dependency matrix."),
  block("pb-tracking", "stability-matrix", ["stability matrix"], "PiggybackLogging", "stabilityMatrixTracking",
    "Track determinant stability with a matrix."),
  block("pb-tracking", "stability-vector", ["stability vector"], "PiggybackLogging", "stabilityVectorTracking",
    "Track determinant stability with a vector."),

  // ckpt-proto
  block("ckpt-proto", "independent", ["independent"], "Checkpoint", "independentCheckpointing",
    "Each process checkpoints on its own."),
  block("ckpt-proto", "coordinated", ["co-ordinated", "coordinated"], "Checkpoint", "coordinatedCheckpointing",
    "All processes take a consistent global snapshot together."),
  block("ckpt-proto", "communication-induced", ["communication-induced"], "Checkpoint", "communicationInducedCheckpointing",
    "Independent checkpoints plus forced ones induced by piggybacked checkpoint indices."),

  // how-to-ckpt
  block("how-to-ckpt", "synchronously", ["synchronously"], "HowToCheckpoint", "synchronousCheckpointWrite",
    "The process waits until the checkpoint is on stable storage."),
  block("how-to-ckpt", "asynchronously", ["asynchronously"], "HowToCheckpoint", "asynchronousCheckpointWrite",
    "The checkpoint is written in the background."),

  // ckpt-impl
  block("ckpt-impl", "full", ["full"], "Checkpoint", "fullCheckpoint", "Write the whole state."),
  block("ckpt-impl", "incremental", ["incremental"], "Checkpoint", "incrementalCheckpoint",
    "Write only what changed since the last checkpoint."),

  // recovery-get-det-proto
  block("recovery-get-det-proto", "centralized", ["centralized", "centralised"], "CollectDeterminants", "centralizedDeterminantRetrieval",
    "Read determinants back from stable storage."),
  block("recovery-get-det-proto", "distributed", ["distributed"], "CollectDeterminants", "distributedDeterminantRetrieval",
    "Collect determinants from the surviving processes that hold copies."),

  // orphan-detection-proto
  block("orphan-detection-proto", "broadcast-logical-clock", ["broadcast logical clock"], "OrphanDetection", "broadcastLogicalClockOrphanDetection",
    "The recovering process broadcasts its restored logical clock; processes past it are orphans."),
  block("orphan-detection-proto", "exchange-vector-clock", ["exchange vector clock"], "OrphanDetection", "exchangeVectorClockOrphanDetection",
    "Processes exchange vector clocks to find states that depend on lost ones."),
];
