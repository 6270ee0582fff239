/** Small durable-I/O helpers shared by the logs, the checkpoint store and the lock. */
import { mkdir, open, readFile, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";

/** filehandle.write may write less than asked (signals, NFS); loop until all is out. */
export async function writeFully(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten === 0) throw new Error("write returned 0 bytes");
    done += bytesWritten;
  }
}

/**
 * fsync a directory so a create, rename or unlink in it is durable. Some
 * platforms (Windows) cannot open directories; there the rename is as durable
 * as the OS makes it, so EISDIR/EPERM are ignored.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(dir, "r");
  } catch (e) {
    if (isErrno(e, "EISDIR") || isErrno(e, "EPERM")) return;
    throw e;
  }
  try {
    await fh.sync();
  } catch (e) {
    // Some filesystems refuse fsync on a directory handle; nothing better to do.
    if (!isErrno(e, "EINVAL") && !isErrno(e, "EBADF")) throw e;
  } finally {
    await fh.close();
  }
}

let tmpCounter = 0;

/** A temp name next to `path`; `.tmp` files are ignored and cleaned up on open. */
export function tempPath(path: string): string {
  return `${path}.${process.pid}.${++tmpCounter}.tmp`;
}

/**
 * Write `data` to `path` atomically and durably: temp file, fdatasync, rename,
 * fsync the directory. A crash leaves either the old file or the new one.
 */
export async function atomicWriteFile(path: string, dir: string, data: Uint8Array): Promise<void> {
  const tmp = tempPath(path);
  const fh = await open(tmp, "w");
  try {
    await writeFully(fh, data, 0);
    await fh.datasync();
  } catch (e) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
  await fsyncDir(dir);
}

export function isErrno(e: unknown, code: string): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === code;
}

/** A file's text, or null when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if (isErrno(e, "ENOENT")) return null;
    throw e;
  }
}

/** Unlink, tolerating a file that is already gone. */
export async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if (!isErrno(e, "ENOENT")) throw e;
  }
}

/**
 * `mkdir -p`. Node's recursive mkdir reports ENOENT when creating a missing
 * component failed for another reason (a read-only mount, no permission);
 * then the component is created alone to throw the real error (EROFS, EACCES).
 */
export async function mkdirs(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    if (!isErrno(e, "ENOENT")) throw e;
    throw (await firstMissingError(dir)) ?? e;
  }
}

/** The error creating the first missing component of `dir` gives, if any. */
async function firstMissingError(dir: string): Promise<unknown> {
  let d = dir;
  for (let parent = dirname(d); parent !== d; d = parent, parent = dirname(d)) {
    const there = await stat(parent).then(
      () => true,
      () => false,
    );
    if (!there) continue;
    try {
      await mkdir(d);
      return undefined;
    } catch (e) {
      return e;
    }
  }
  return undefined;
}

/** Whether `path` exists (as anything); other errors (EACCES, EIO) are thrown. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if (isErrno(e, "ENOENT") || isErrno(e, "ENOTDIR")) return false;
    throw e;
  }
}
