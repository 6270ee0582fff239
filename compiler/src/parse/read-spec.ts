/**
 * Reading a spec file with bounded time and memory. The size limit
 * (MAX_SPEC_BYTES) is enforced while reading, not after: `readFile` on
 * /dev/zero never returns (it grows without bound), so at most one byte past
 * the limit is read, from a regular file, a device or a pipe alike. Pipes are
 * read because shells hand them out (`egida-gen check <(gen-spec)`,
 * `cat spec | egida-gen check /dev/stdin`).
 *
 * The file is opened non-blocking: opening a FIFO for reading would otherwise
 * wait for a writer forever. A pipe with no data yet answers EAGAIN, so it is
 * polled, and given up after IDLE_MS without a byte. The type check is done on
 * the open descriptor (fstat), so a path swapped between a stat and the open
 * cannot slip through.
 */
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import type { Diagnostic } from "../diagnostics/types.js";
import { MAX_SPEC_BYTES, tooLargeDiagnostic } from "./decode.js";

export type ReadSpecResult =
  | { readonly ok: true; readonly bytes: Uint8Array }
  /** `diagnostic.code` is E-io (cannot open or read, not a regular file) or E-too-large. */
  | { readonly ok: false; readonly reason: string; readonly diagnostic: Diagnostic };

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EISDIR: "is a directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOTDIR: "a component of the path is not a directory",
  ELOOP: "too many symbolic links",
};

/** How long a pipe or device may stay silent before the read is given up. */
export const IDLE_MS = 10_000;
const POLL_MS = 5;
/** How long a FIFO may have no writer before it is taken as unwritten. */
const WRITER_GRACE_MS = 250;

const START = { line: 1, column: 1, offset: 0, endOffset: 0 } as const;

// O_NONBLOCK does not exist on Windows, where FIFOs cannot be opened by path anyway.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** Reads the spec at `path` (named `file` in messages): regular files only, at most MAX_SPEC_BYTES. */
export async function readSpecFile(path: string, file: string = path): Promise<ReadSpecResult> {
  const limit = MAX_SPEC_BYTES;
  let fh: FileHandle;
  try {
    fh = await open(path, OPEN_FLAGS);
  } catch (e: unknown) {
    return ioError(file, reasonOf(e));
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) return ioError(file, REASONS["EISDIR"]!);
    if (st.isSocket()) return ioError(file, "is a socket", "give the path of a spec file");
    // A sparse or huge file is refused from its size alone, without reading it.
    if (st.size > limit) return tooLarge(file, `${st.size} bytes`);
    // Read one byte past the limit: a file that grew since fstat (or reports size 0, as /proc files do) is still bounded.
    let buf = Buffer.allocUnsafe(Math.min(limit + 1, Math.max(st.size + 1, 4096)));
    let n = 0;
    let idleSince = Date.now();
    for (;;) {
      if (n === buf.length) {
        if (n > limit) break;
        const grown = Buffer.allocUnsafe(Math.min(limit + 1, buf.length * 2));
        buf.copy(grown, 0, 0, n);
        buf = grown;
      }
      let bytesRead: number;
      try {
        // Position null: pipes and devices cannot seek.
        ({ bytesRead } = await fh.read(buf, n, buf.length - n, st.isFile() ? n : null));
      } catch (e: unknown) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
        if (Date.now() - idleSince > IDLE_MS) {
          return ioError(file, `${kindOf(st)} gave no data for ${IDLE_MS / 1000} s`, "write the spec into the pipe, or give the path of a spec file");
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
        continue;
      }
      if (bytesRead === 0) {
        // A FIFO reads as end-of-file while it has no writer; a writer blocked in
        // open(2) is released by our open, so give it a moment to arrive.
        if (n === 0 && st.isFIFO() && Date.now() - idleSince < WRITER_GRACE_MS) {
          await new Promise((r) => setTimeout(r, POLL_MS));
          continue;
        }
        break;
      }
      n += bytesRead;
      idleSince = Date.now();
    }
    if (n > limit) return tooLarge(file, `more than ${limit} bytes`);
    // A named FIFO that nobody has opened for writing reads as end-of-file at once.
    if (n === 0 && st.isFIFO()) return ioError(file, "a FIFO with no writer (nothing was written to it)", "write the spec into the FIFO while egida-gen reads it, or give the path of a spec file");
    return { ok: true, bytes: buf.subarray(0, n) };
  } catch (e: unknown) {
    return ioError(file, reasonOf(e));
  } finally {
    await fh.close().catch(() => {});
  }
}

function reasonOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? "";
  return REASONS[code] ?? (e instanceof Error ? e.message : String(e));
}

function kindOf(st: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "the file";
}

function ioError(file: string, reason: string, hint?: string): ReadSpecResult {
  return {
    ok: false,
    reason,
    diagnostic: {
      severity: "error",
      code: "E-io",
      message: `cannot read ${file}: ${reason}`,
      file,
      loc: START,
      hint: hint ?? (reason === REASONS["ENOENT"] ? "check the path; specs usually end in .egida" : "check the path and the file's permissions"),
    },
  };
}

function tooLarge(file: string, size: string): ReadSpecResult {
  const diagnostic = tooLargeDiagnostic(size, file);
  return { ok: false, reason: diagnostic.message, diagnostic };
}
