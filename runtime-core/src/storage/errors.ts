/**
 * Typed storage errors. Each names the file (and offset where it applies) so
 * the launcher can print one clear line instead of a stack trace.
 */

/** Base class: every storage failure the launcher should print and stop on. */
export class StorageError extends Error {
  override readonly name: string = "StorageError";
  constructor(
    message: string,
    readonly file?: string,
    readonly offset?: number,
  ) {
    super(message);
  }
}

/**
 * A log segment is corrupt somewhere other than its tail (valid records follow
 * the bad bytes), so dropping the rest would lose acknowledged data.
 */
export class CorruptLogError extends StorageError {
  override readonly name = "CorruptLogError";
  constructor(
    override readonly file: string,
    override readonly offset: number,
    readonly reason: string,
  ) {
    super(`corrupt log ${file} at offset ${offset}: ${reason}`, file, offset);
  }
}

/** A checkpoint manifest or chunk fails verification. `chunk` is the chunk's position, if a chunk is bad. */
export class CorruptCheckpointError extends StorageError {
  override readonly name = "CorruptCheckpointError";
  constructor(
    override readonly file: string,
    override readonly offset: number,
    readonly reason: string,
    readonly chunk?: number,
  ) {
    super(
      `corrupt checkpoint ${file} at offset ${offset}${chunk === undefined ? "" : ` (chunk ${chunk})`}: ${reason}`,
      file,
      offset,
    );
  }
}

/**
 * Storage that an earlier incarnation of the rank wrote is gone: a rank
 * directory, a log (or one of its segments), or a checkpoint the manifests
 * list. Recovering without it would silently start the rank (and, through
 * rollbacks, every rank) from an older or the initial state, so opening fails.
 */
export class StorageMissingError extends StorageError {
  override readonly name = "StorageMissingError";
  constructor(
    override readonly file: string,
    readonly what: string,
  ) {
    super(`storage missing: ${what}`, file);
  }
}

/** Another live incarnation of the rank holds the storage lock. */
export class LockHeldError extends StorageError {
  override readonly name = "LockHeldError";
  constructor(
    override readonly file: string,
    readonly holder: LockHolder,
    readonly reason: string,
  ) {
    super(
      `storage lock ${file} is held by pid ${holder.pid} on ${holder.host} (incarnation ${holder.incarnation}): ${reason}`,
      file,
    );
  }
}

/** Our lock was taken over by a newer incarnation: this process must stop writing. */
export class LockLostError extends StorageError {
  override readonly name = "LockLostError";
  constructor(override readonly file: string, readonly holder: LockHolder | null) {
    super(
      holder
        ? `storage lock ${file} was taken over by pid ${holder.pid} on ${holder.host} (incarnation ${holder.incarnation})`
        : `storage lock ${file} disappeared`,
      file,
    );
  }
}

/** A medium this provider cannot serve (e.g. no replicated-log factory given). */
export class UnsupportedMediumError extends StorageError {
  override readonly name = "UnsupportedMediumError";
  constructor(readonly medium: string, detail: string) {
    super(`storage medium "${medium}" is not available: ${detail}`);
  }
}

/** The log failed an earlier write or fdatasync; its on-disk state is unknown, so it refuses further use. */
export class LogFailedError extends StorageError {
  override readonly name = "LogFailedError";
  constructor(file: string, cause: unknown) {
    super(`log ${file} failed earlier and is closed for writing: ${String(cause)}`, file);
    this.cause = cause;
  }
}

/**
 * A filesystem operation on the storage failed for a reason outside egida
 * (disk full, read-only mount, no permission, I/O error). Names the
 * operation and the file, which the raw errno error of a write lacks, so
 * the launcher can print one line the user can act on.
 */
export class StorageIoError extends StorageError {
  override readonly name = "StorageIoError";
  constructor(
    /** What was being done, as a verb phrase taking the file: "append to", "create", "write a checkpoint in". */
    readonly op: string,
    override readonly file: string,
    /** The errno code (ENOSPC, EROFS, EACCES, ...). */
    readonly code: string,
    cause: unknown,
  ) {
    super(`cannot ${op} ${file}: ${code}`, file);
    this.cause = cause;
  }
}

/**
 * `e` as a StorageIoError naming `op` and `file` when it is a raw errno error
 * (one with a string `code`); anything else (a typed storage error, a bug) is
 * returned unchanged.
 */
export function ioError(e: unknown, op: string, file: string): unknown {
  if (e instanceof StorageError || typeof e !== "object" || e === null) return e;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code) ? new StorageIoError(op, file, code, e) : e;
}

/** Who holds an NFS rank lock. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly incarnation: number;
  /** Random token so a holder can tell its own lock from a successor's. */
  readonly token: string;
  readonly since: string;
}

/** A recoverable oddity (torn tail truncated, corrupt checkpoint skipped). */
export interface StorageWarning {
  /** `medium`: reported by a plugin medium's store (MediumContext.warn). */
  readonly kind: "torn-tail" | "corrupt-checkpoint" | "lock-stolen" | "stale-temp" | "medium";
  readonly file: string;
  readonly offset?: number;
  readonly message: string;
}

export type WarningHandler = (warning: StorageWarning) => void;

/** One replica's answer to a recovery fetch that could not vouch for the whole log. */
export interface LostReplica {
  readonly rank: number;
  /** The replica's incarnation when it answered. */
  readonly incarnation: number;
}

/**
 * A recovering origin fetched a replicated log (`volatile-memory-of-processes`)
 * and no replica holds a complete copy: every replica restarted since it last
 * held one (more than f concurrent failures), so records acknowledged to the
 * dead incarnation may be gone. Recovery must stop rather than replay a
 * history with holes; the host reports it as `unrecoverable`.
 */
export class StateLostError extends StorageError {
  override readonly name = "StateLostError";
  constructor(
    readonly origin: number,
    readonly log: string,
    readonly f: number,
    readonly replicas: readonly LostReplica[],
  ) {
    const who = replicas.map((r) => `rank ${r.rank} (incarnation ${r.incarnation})`).join(", ");
    super(
      `rank ${origin} cannot recover replicated log "${log}": no replica holds a complete copy; ` +
        `${who} restarted since last holding one, so rank ${origin} and all its f=${f} replicas were lost together (more than f concurrent failures)`,
    );
  }
}
