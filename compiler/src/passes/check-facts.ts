/**
 * Facts about a protocol that the checks, the classifier and `explain` all
 * reason about. Deriving them in one place keeps the three from disagreeing
 * about, say, what counts as "a stable determinant log".
 *
 * Storage behaviour comes from the registry's traits (`stable`, `needsF`),
 * never from storage ids, so that plugin storages are judged like built-ins.
 */
import type {
  BlockRef,
  DepGenStatement,
  LogAction,
  NonDetStatement,
  PiggybackValue,
  ProtocolIR,
} from "../ir/types.js";
import type { Registry, StorageTraits } from "../registry/types.js";

/** Canonical ids the checks must recognise (values of Figure 2 the grammar fixes). */
export const INFO_DETERMINANT = "determinant";
export const INFO_MESSAGE = "message";
export const HOW_SYNC = "synchronously";
export const PB_DETERMINANTS = "determinants";
export const PB_CHECKPOINT_COUNTER = "checkpoint-counter";
export const CKPT_COMMUNICATION_INDUCED = "communication-induced";
export const CKPT_INDEPENDENT = "independent";
export const OC_COORDINATED = "coordinated";

/** One `Log ...` clause together with the statement it belongs to. */
export interface LogSite {
  readonly log: LogAction;
  /** The event whose handler performs the log. */
  readonly event: NonDetStatement["event"];
  /** Written in a non-det statement (receiver side) or a dep-gen statement. */
  readonly origin: "non-det" | "dep-gen";
  /** Storage traits, or undefined when the storage id is unknown to the registry. */
  readonly traits: StorageTraits | undefined;
}

export interface ProtocolFacts {
  readonly ir: ProtocolIR;
  readonly logs: readonly LogSite[];
  /** Non-det statements whose determinant is logged by their own `Log` clause. */
  readonly detLogs: readonly LogSite[];
  /** True when every non-det statement logs its determinant synchronously on stable storage. */
  readonly allDetsSyncStable: boolean;
  /** True when every non-det statement logs its determinant on stable storage (synchronously or not). */
  readonly allDetsStable: boolean;
  /** True when at least one non-det statement logs its determinant on stable storage. */
  readonly anyDetStable: boolean;
  /** A receive statement's determinants are logged on stable storage (the hybrid causal protocol). */
  readonly receiveDetStable: boolean;
  /** A read statement's determinants are logged on stable storage. */
  readonly readDetStable: boolean;
  /** `Piggyback determinants` on some event (causal logging). */
  readonly piggybackDeterminants: PiggybackValue | undefined;
  /** Piggybacked values that track dependencies between process states (vector/logical clock...). */
  readonly dependencyTracking: readonly PiggybackValue[];
  readonly checkpointCounter: PiggybackValue | undefined;
  /** Message contents a recovering receiver can get back: sender logs and stable receiver logs. */
  readonly senderMessageLogs: readonly LogSite[];
  readonly receiverMessageLogs: readonly LogSite[];
  /** Non-det statements declared, and whether any logging (determinant or piggyback) exists. */
  readonly hasMessageLogging: boolean;
  readonly usesReplication: readonly BlockRef[];
}

export function storageTraits(registry: Registry, id: string): StorageTraits | undefined {
  return registry.get("storage", id)?.storage;
}

export function hasInfo(log: LogAction, info: string): boolean {
  return log.info.some((i) => i.id === info);
}

/** True when a determinant log of this site survives the crash of the process that wrote it. */
export function isStable(site: LogSite): boolean {
  // Unknown storages were already reported by the front end; do not pile up errors on them.
  return site.traits?.stable ?? true;
}

function isDependencyTracking(registry: Registry, pb: PiggybackValue): boolean {
  if (pb.id === PB_DETERMINANTS) return false;
  const def = registry.get("pb-value", pb.id);
  // Piggybacks that PiggybackLogging handles (clocks) track state dependencies;
  // those of PiggybackCheckpointing (checkpoint counter) track checkpoint dependencies.
  if (def) return def.module === "PiggybackLogging";
  return pb.id !== PB_CHECKPOINT_COUNTER;
}

function piggybacks(stmts: readonly DepGenStatement[]): PiggybackValue[] {
  return stmts.flatMap((s) => s.piggyback);
}

export function deriveFacts(ir: ProtocolIR, registry: Registry): ProtocolFacts {
  const logs: LogSite[] = [];
  for (const s of ir.nonDeterministic) {
    if (s.log) logs.push({ log: s.log, event: s.event, origin: "non-det", traits: storageTraits(registry, s.log.where.id) });
  }
  for (const s of ir.dependencyGenerating) {
    if (s.log) logs.push({ log: s.log, event: s.event, origin: "dep-gen", traits: storageTraits(registry, s.log.where.id) });
  }
  const detLogs = logs.filter((l) => l.origin === "non-det" && hasInfo(l.log, INFO_DETERMINANT));
  const detSite = (s: NonDetStatement) => detLogs.find((l) => l.log === s.log);
  const allDetsStable =
    ir.nonDeterministic.length > 0 &&
    ir.nonDeterministic.every((s) => {
      const site = detSite(s);
      return site !== undefined && isStable(site);
    });
  const allDetsSyncStable = allDetsStable && ir.nonDeterministic.every((s) => detSite(s)?.log.how.id === HOW_SYNC);
  const pbs = piggybacks(ir.dependencyGenerating);
  const senderMessageLogs = logs.filter((l) => l.event === "send" && hasInfo(l.log, INFO_MESSAGE));
  const receiverMessageLogs = logs.filter((l) => l.event === "receive" && hasInfo(l.log, INFO_MESSAGE) && isStable(l));
  const usesReplication: BlockRef[] = [];
  const storages: BlockRef[] = [...logs.map((l) => l.log.where)];
  if (ir.checkpoint) storages.push(ir.checkpoint.storage);
  if (ir.recovery.onRollback) storages.push(ir.recovery.onRollback.storage);
  for (const st of storages) if (storageTraits(registry, st.id)?.needsF) usesReplication.push(st);
  const piggybackDeterminants = pbs.find((p) => p.id === PB_DETERMINANTS);
  return {
    ir,
    logs,
    detLogs,
    allDetsSyncStable,
    allDetsStable,
    anyDetStable: detLogs.some(isStable),
    receiveDetStable: detLogs.some((l) => l.event === "receive" && isStable(l)),
    readDetStable: detLogs.some((l) => l.event === "read" && isStable(l)),
    piggybackDeterminants,
    dependencyTracking: pbs.filter((p) => isDependencyTracking(registry, p)),
    checkpointCounter: pbs.find((p) => p.id === PB_CHECKPOINT_COUNTER),
    senderMessageLogs,
    receiverMessageLogs,
    hasMessageLogging: detLogs.length > 0 || piggybackDeterminants !== undefined,
    usesReplication,
  };
}
