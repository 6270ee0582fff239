/**
 * Environment faults: the disk is full, the storage is mounted read-only, a
 * directory or file is missing or not ours. They are the user's to fix, not
 * bugs in egida, so the job ends with exit code 7 and one line naming the
 * operation, the file and the cause, with a hint, and never a stack.
 *
 * The classifier looks through an error and its `cause` chain (a log that
 * failed earlier wraps the write error that failed it) for a StorageIoError,
 * an EnvironmentError or a raw Node errno error with one of ENV_CODES.
 */
import { StorageIoError } from "../storage/errors.js";

/** Where the fault is: decides the hint (which flag to change). */
export type FaultArea = "storage" | "shared storage" | "secret file" | "tls file" | "output file" | "trace" | "file system";

export interface EnvFault {
  readonly area: FaultArea;
  /** Verb phrase taking the file: "append to", "create", "read". */
  readonly op: string;
  /** The file or directory; absent when the OS error named none. */
  readonly file?: string;
  /** errno code: ENOSPC, EROFS, EACCES, ... */
  readonly code: string;
  /** Replaces the errno text when there is something more precise to say. */
  readonly detail?: string;
  /** Replaces the hint derived from area and code. */
  readonly hint?: string;
}

/** errno codes that mean "the environment refused", with their text. Anything else is not classified. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EFBIG: "file too large",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EIO: "input/output error",
  ESTALE: "stale file handle",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
  ENOENT: "no such file or directory",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
};

export function isEnvironmentCode(code: string): boolean {
  return Object.hasOwn(ERRNO_TEXT, code);
}

/** A fault found before the job starts (a missing storage directory, an unreadable secret file). */
export class EnvironmentError extends Error {
  override readonly name = "EnvironmentError";
  constructor(
    readonly fault: EnvFault,
    cause?: unknown,
  ) {
    super(describeEnvFault(fault, -1));
    if (cause !== undefined) this.cause = cause;
  }
}

/** What the raw error's syscall was doing, as a verb phrase. */
const SYSCALL_OP: Readonly<Record<string, string>> = {
  open: "open",
  mkdir: "create directory",
  mkdtemp: "create a temporary directory in",
  write: "write",
  read: "read",
  fsync: "sync",
  fdatasync: "sync",
  rename: "rename",
  unlink: "remove",
  rmdir: "remove",
  scandir: "list",
  link: "link",
  access: "access",
  stat: "stat",
  lstat: "stat",
};

/**
 * The environment fault behind `e`, or undefined if `e` is something else (a
 * bug, a corrupt file, a usage error). `area` labels a raw errno error; typed
 * errors carry their own.
 */
export function environmentFault(e: unknown, area: FaultArea = "file system"): EnvFault | undefined {
  let x: unknown = e;
  for (let depth = 0; depth < 8 && typeof x === "object" && x !== null; depth++) {
    if (x instanceof EnvironmentError) return x.fault;
    // Matched by name as well: the storage module may be loaded twice (source and dist in one process).
    if (x instanceof StorageIoError || (x instanceof Error && x.name === "StorageIoError")) {
      const io = x as StorageIoError;
      return isEnvironmentCode(io.code) ? { area: "storage", op: io.op, file: io.file, code: io.code } : undefined;
    }
    const { code, syscall, path } = x as { code?: unknown; syscall?: unknown; path?: unknown };
    if (typeof code === "string" && typeof syscall === "string" && isEnvironmentCode(code)) {
      return { area, op: SYSCALL_OP[syscall] ?? syscall, ...(typeof path === "string" ? { file: path } : {}), code };
    }
    x = (x as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The flag that moves the failing thing elsewhere, per area. */
const AREA_FLAG: Readonly<Record<FaultArea, string>> = {
  storage: "--storage-dir",
  "shared storage": "--shared-dir",
  "secret file": "--secret-file",
  "tls file": "--tls-cert/--tls-key/--tls-ca",
  "output file": "--output",
  trace: "--trace",
  "file system": "",
};

/** What the user can do about it. */
export function envHint(f: Pick<EnvFault, "area" | "code" | "hint">): string {
  if (f.hint !== undefined) return f.hint;
  const flag = AREA_FLAG[f.area];
  const other = flag ? `, or use another ${flag}` : "";
  switch (f.code) {
    case "ENOSPC":
    case "EDQUOT":
    case "EFBIG":
      return `free space on that file system${other}`;
    case "EROFS":
      return `the file system is mounted read-only: remount it read-write${other}`;
    case "EACCES":
    case "EPERM":
      return f.area === "secret file" || f.area === "tls file" ? "make it readable by this user" : `give this user write access to it${other}`;
    case "EIO":
    case "ESTALE":
      return `the device or network mount failed: check it (dmesg)${other}`;
    case "EMFILE":
    case "ENFILE":
      return "raise the open-file limit (ulimit -n)";
    default:
      return f.area === "secret file" || f.area === "tls file" ? `check the path given to ${AREA_FLAG[f.area]}` : `check the path${other}`;
  }
}

/** One line: `storage error on rank 2: cannot append to FILE: no space left on device (ENOSPC); free space ...`. */
export function describeEnvFault(f: EnvFault, rank: number): string {
  const where = rank >= 0 ? ` on rank ${rank}` : "";
  const what = f.file === undefined ? f.op : `${f.op} ${f.file}`;
  return `${f.area} error${where}: cannot ${what}: ${f.detail ?? ERRNO_TEXT[f.code] ?? f.code} (${f.code}); ${envHint(f)}`;
}
