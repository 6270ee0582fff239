/**
 * The storage directory, checked before any rank starts, so a typo or a
 * read-only mount is one line from the launcher rather than N rank failures.
 *
 * A --storage-dir that does not exist is created, but only its last
 * component (like `mkdir`, not `mkdir -p`): a missing parent is far more
 * often a typo or an unmounted volume than a wish, and creating the tree
 * would put the job's stable storage somewhere nobody looks (or on the root
 * file system under an absent mount point).
 *
 * The same checks apply to --shared-dir, which every rank of a job may
 * create at once on the shared mount: losing that race is fine.
 */
import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { EnvironmentError, isEnvironmentCode, type FaultArea } from "../host/env-fault.js";

/** `e` as an EnvironmentError about `op` on `file` if it is an environment errno; else `e`. */
function storageFault(e: unknown, op: string, file: string, area: FaultArea): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && isEnvironmentCode(code) ? new EnvironmentError({ area, op, file, code }, e) : e;
}

/**
 * Resolve `dir`, create it if only its last component is missing, and check it is a writable directory.
 * `area` "shared storage" is the --shared-dir (its messages name that flag).
 */
export function prepareStorageDir(dir: string, area: "storage" | "shared storage" = "storage"): string {
  const flag = area === "storage" ? "--storage-dir" : "--shared-dir";
  const abs = resolve(dir);
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (e) {
    if ((e as { code?: unknown }).code !== "ENOENT") throw storageFault(e, "use storage directory", abs, area);
    const parent = dirname(abs);
    let parentIsDir = false;
    try {
      parentIsDir = statSync(parent).isDirectory();
    } catch {
      // Missing or unreadable: refused below.
    }
    if (!parentIsDir) {
      throw new EnvironmentError({
        area,
        op: "create storage directory",
        file: abs,
        code: "ENOENT",
        detail: `its parent ${parent} does not exist or is not a directory`,
        hint: `create the parent first (egida-run creates only the last component), or use another ${flag}`,
      });
    }
    try {
      mkdirSync(abs);
    } catch (e2) {
      // Another rank made it meanwhile (every rank of a job creates the same --shared-dir): check what is there.
      if ((e2 as { code?: unknown }).code === "EEXIST") return prepareStorageDir(dir, area);
      throw storageFault(e2, "create storage directory", abs, area);
    }
    return abs;
  }
  if (!isDir) {
    throw new EnvironmentError({ area, op: "use storage directory", file: abs, code: "ENOTDIR", detail: "it exists and is not a directory" });
  }
  try {
    // Read-only mounts answer EROFS, missing permission EACCES.
    accessSync(abs, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw storageFault(e, "write to storage directory", abs, area);
  }
  return abs;
}
