/**
 * The block registry's types: the paper's §4.3 binding between the values of
 * Figure 2's variables and their implementations. The registry is the single
 * place that knows which building blocks exist.
 */

/** Figure 2's variables whose values are blocks. `event` is fixed by the grammar. */
export type Variable =
  | "output-commit-proto"
  | "event-info"
  | "how-to-log"
  | "storage"
  | "pb-value"
  | "pb-tracking"
  | "ckpt-proto"
  | "how-to-ckpt"
  | "ckpt-impl"
  | "recovery-get-det-proto"
  | "orphan-detection-proto";

/** The modules of the paper's §4.1–4.2 and Figure 5. */
export type PaperModule =
  | "EventHandler"
  | "Determinant"
  | "LogEventDeterminant"
  | "LogEventInfo"
  | "HowToLog"
  | "WhereToLog"
  | "StableStorage"
  | "VolatileStorage"
  | "HowToOutputCommit"
  | "PiggybackLogging"
  | "PiggybackCheckpointing"
  | "Checkpoint"
  | "HowToCheckpoint"
  | "CollectDeterminants"
  | "OrphanDetection";

export interface ParamDef {
  readonly type: "integer" | "string" | "boolean";
  readonly default?: number | string | boolean;
  readonly description: string;
}

/** How a storage block behaves, which the checker reasons about. */
export interface StorageTraits {
  /** Survives the crash of the process that wrote it (paper: stable storage). */
  readonly stable: boolean;
  /** May be named as a volatile-storage (paper Figure 2). */
  readonly volatileAllowed: boolean;
  /** Needs f >= 1 other processes (replication). */
  readonly needsF?: boolean;
  /** Shared between hosts. */
  readonly shared?: boolean;
  /** Holds logs (determinants, messages, reads). Default true. */
  readonly logs?: boolean;
  /** Holds checkpoints too (a plugin medium's runtime store then provides a checkpoint store). Default true. */
  readonly checkpoints?: boolean;
}

/** Where a plugin value's implementation lives: an ES module and export name (the plugin's own). */
export interface Binding {
  readonly module: string;
  readonly export: string;
}

export interface BlockDef {
  readonly variable: Variable;
  /** Canonical id, kebab-case, e.g. "nfs-disk". */
  readonly id: string;
  /** Accepted spellings, compared case-insensitively after whitespace normalisation. */
  readonly spellings: readonly string[];
  readonly module: PaperModule;
  readonly description: string;
  readonly params?: Readonly<Record<string, ParamDef>>;
  readonly storage?: StorageTraits;
  /**
   * A plugin value's implementation (required by schema/block.schema.json).
   * For a plugin `storage` value the module (a package specifier, e.g.
   * "egida-plugin-x/runtime") exports a runtime-core MediumStore as `export`;
   * a protocol compiled with the plugin imports it and registers it for the
   * medium. Built-in values have none: they are bound to the block files
   * whose manifests implement them (registry/implemented-by.ts).
   */
  readonly binding?: Binding;
  /**
   * A plugin value implemented by a block file the plugin ships, relative to
   * the plugin's package root (e.g. "./blocks/batched-commit.ts"): `compile`
   * analyzes it like a library block and splices it (codegen/plugin-blocks.ts).
   */
  readonly block?: string;
  /** Set by the plugin loader: the absolute path of `block`. */
  readonly blockFile?: string;
  /** Package that registered the block ("egida-gen" for built-ins). */
  readonly origin: string;
  /** Set by the plugin loader: the plugin's package.json name and version (a generated package depends on it). */
  readonly package?: { readonly name: string; readonly version: string };
}

/** The registry: built-in blocks plus those registered by plugins named in egida.config.json. */
export interface Registry {
  /** Every block of a variable, in registration order. */
  values(variable: Variable): readonly BlockDef[];
  /** The block a spelling denotes ("Co-ordinated" → coordinated), after case/whitespace normalisation. */
  resolve(variable: Variable, spelling: string): BlockDef | undefined;
  /** The block with this canonical id. */
  get(variable: Variable, id: string): BlockDef | undefined;
  all(): readonly BlockDef[];
}
