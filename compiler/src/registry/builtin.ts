/**
 * The built-in values: every value of the paper's Figure 2, registered once.
 * A built-in value has no binding here: it is implemented by the block files
 * whose manifests name it in `implements` (registry/implemented-by.ts;
 * `egida-gen explain` prints them).
 */
import type { BlockDef, PaperModule, Variable } from "./types.js";

function block(
  variable: Variable,
  id: string,
  spellings: readonly string[],
  module: PaperModule,
  description: string,
  extra: Partial<Pick<BlockDef, "params" | "storage">> = {},
): BlockDef {
  return { variable, id, spellings, module, description, origin: "egida-gen", ...extra };
}

export const BUILTIN_BLOCKS: readonly BlockDef[] = [
  // output-commit-proto
  block("output-commit-proto", "independent", ["independent"], "HowToOutputCommit",
    "Make this process's own determinants stable before output leaves."),
  block("output-commit-proto", "coordinated", ["co-ordinated", "coordinated"], "HowToOutputCommit",
    "Ask every process this one causally depends on to make its determinants stable before output leaves."),

  // event-info
  block("event-info", "determinant", ["determinant"], "LogEventDeterminant",
    "The determinant of the event ({source, sesn, dest, desn}, plus the value read for `read`)."),
  block("event-info", "message", ["message", "data"], "LogEventInfo",
    "The contents of the message (the paper's Figure 3 also writes `data`)."),

  // how-to-log
  block("how-to-log", "synchronously", ["synchronously"], "HowToLog",
    "The event completes only once the record is on the named storage."),
  block("how-to-log", "asynchronously", ["asynchronously"], "HowToLog",
    "The record is buffered and flushed later (flush timer or output commit)."),

  // storage (stable-storage and volatile-storage of Figure 2)
  block("storage", "local-disk", ["local disk"], "StableStorage",
    "A file on this host's disk: survives a process crash, not the loss of the host.",
    {
      storage: { stable: true, volatileAllowed: true },
      params: { dir: { type: "string", default: ".egida/local", description: "Directory of the log files, per rank." } },
    }),
  block("storage", "nfs-disk", ["NFS disk"], "StableStorage",
    "A file on a disk shared by all hosts (NFS): survives the crash of any process.",
    {
      storage: { stable: true, volatileAllowed: false, shared: true },
      params: { dir: { type: "string", default: ".egida/nfs", description: "Shared directory (the NFS mount)." } },
    }),
  block("storage", "volatile-memory-of-self", ["volatile memory of self"], "VolatileStorage",
    "This process's memory: lost when it crashes.",
    { storage: { stable: false, volatileAllowed: true } }),
  block("storage", "volatile-memory-of-processes", ["volatile memory of processes"], "StableStorage",
    "The memories of f other processes; a write completes after f acknowledgements.",
    {
      storage: { stable: true, volatileAllowed: false, needsF: true },
      params: { f: { type: "integer", default: 1, description: "Acknowledgements to wait for (the protocol's f)." } },
    }),

  // pb-value
  block("pb-value", "determinants", ["determinants"], "PiggybackLogging",
    "Causal logging: piggyback the determinants the receiver may depend on that are not yet stable.",
    { params: { tracking: { type: "string", description: "Optional stability-tracking block (a pb-tracking value written after a comma)." } } }),
  block("pb-value", "vector-clock", ["vector clock"], "PiggybackLogging",
    "Dependency tracking by vector clock (optimistic logging)."),
  block("pb-value", "logical-clock", ["logical clock"], "PiggybackLogging",
    "Dependency tracking by logical clock (optimistic logging)."),
  block("pb-value", "checkpoint-counter", ["checkpoint counter"], "PiggybackCheckpointing",
    "The sender's checkpoint index (communication-induced checkpointing)."),

  // pb-tracking: the optional modifier of `determinants`
  block("pb-tracking", "dependency-matrix", ["dependency matrix"], "PiggybackLogging",
    "Track which processes hold which determinants with a dependency matrix."),
  block("pb-tracking", "stability-matrix", ["stability matrix"], "PiggybackLogging",
    "Track determinant stability with a matrix."),
  block("pb-tracking", "stability-vector", ["stability vector"], "PiggybackLogging",
    "Track determinant stability with a vector."),

  // ckpt-proto
  block("ckpt-proto", "independent", ["independent"], "Checkpoint",
    "Each process checkpoints on its own."),
  block("ckpt-proto", "coordinated", ["co-ordinated", "coordinated"], "Checkpoint",
    "All processes take a consistent global snapshot together."),
  block("ckpt-proto", "communication-induced", ["communication-induced"], "Checkpoint",
    "Independent checkpoints plus forced ones induced by piggybacked checkpoint indices."),

  // how-to-ckpt
  block("how-to-ckpt", "synchronously", ["synchronously"], "HowToCheckpoint",
    "The process waits until the checkpoint is on stable storage."),
  block("how-to-ckpt", "asynchronously", ["asynchronously"], "HowToCheckpoint",
    "The checkpoint is written in the background."),

  // ckpt-impl
  block("ckpt-impl", "full", ["full"], "Checkpoint", "Write the whole state."),
  block("ckpt-impl", "incremental", ["incremental"], "Checkpoint",
    "Write only what changed since the last checkpoint."),

  // recovery-get-det-proto
  block("recovery-get-det-proto", "centralized", ["centralized", "centralised"], "CollectDeterminants",
    "Read determinants back from stable storage."),
  block("recovery-get-det-proto", "distributed", ["distributed"], "CollectDeterminants",
    "Collect determinants from the surviving processes that hold copies."),

  // orphan-detection-proto
  block("orphan-detection-proto", "broadcast-logical-clock", ["broadcast logical clock"], "OrphanDetection",
    "The recovering process broadcasts its restored logical clock; processes past it are orphans."),
  block("orphan-detection-proto", "exchange-vector-clock", ["exchange vector clock"], "OrphanDetection",
    "Processes exchange vector clocks to find states that depend on lost ones."),
];
