/**
 * Which storage media each kind of log and checkpoint may use, derived from
 * the registry's storage traits (registry/types.ts StorageTraits), so a
 * plugin medium (egida.config.json) is judged like a built-in one and the
 * refusal hints name the media the registry actually has.
 *
 *   synchronous log      stable, keeps logs
 *   asynchronous log     stable, keeps logs, not replicated (needsF): a
 *                        replicated log is synchronous only, and an
 *                        asynchronous log must survive every failure once synced
 *   checkpoint           keeps checkpoints (volatile memory of self is the
 *                        checker's E-checkpoint-volatile-storage)
 *   stable checkpoint    stable, keeps checkpoints
 */
import type { BlockDef, Registry } from "../registry/types.js";

export interface Media {
  readonly syncLog: ReadonlySet<string>;
  readonly asyncLog: ReadonlySet<string>;
  readonly checkpoint: ReadonlySet<string>;
  readonly stableCheckpoint: ReadonlySet<string>;
  /** How a hint writes a medium: the registry's first spelling. */
  spelling(id: string): string;
  /** "`NFS disk`, `local disk` or `volatile memory of processes`": the media of `set`, shared first, replicated last. */
  list(set: ReadonlySet<string>): string;
}

/** Hint order: a shared medium (the usual choice) first, a replicated one last, otherwise registry order. */
function rank(b: BlockDef): number {
  if (b.storage?.shared === true) return 0;
  return b.storage?.needsF === true ? 2 : 1;
}

export function mediaOf(registry: Registry): Media {
  const storages = registry.values("storage").filter((b) => b.storage !== undefined);
  const ids = (keep: (b: BlockDef) => boolean): ReadonlySet<string> => new Set(storages.filter(keep).map((b) => b.id));
  const keepsLogs = (b: BlockDef): boolean => b.storage!.logs !== false;
  const keepsCheckpoints = (b: BlockDef): boolean => b.storage!.checkpoints !== false;
  const spelling = (id: string): string => registry.get("storage", id)?.spellings[0] ?? id;
  const ordered = [...storages].sort((a, b) => rank(a) - rank(b));
  return {
    syncLog: ids((b) => b.storage!.stable && keepsLogs(b)),
    asyncLog: ids((b) => b.storage!.stable && keepsLogs(b) && b.storage!.needsF !== true),
    checkpoint: ids(keepsCheckpoints),
    stableCheckpoint: ids((b) => b.storage!.stable && keepsCheckpoints(b)),
    spelling,
    list(set) {
      const names = ordered.filter((b) => set.has(b.id)).map((b) => `\`${b.spellings[0] ?? b.id}\``);
      return names.length <= 1 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
    },
  };
}
