/**
 * Environment faults and interruption, end to end: the real `egida-run`
 * (runtime-core/bin/egida-run.js, built by the root `npm run build`) over a
 * logging protocol, on real file systems that refuse (a full tmpfs, a
 * read-only mount, a directory without permission). Each must end with exit
 * code 7 and one line naming the operation, the file and the errno, without
 * a stack; SIGINT and SIGTERM must stop the job with 130 / 143 and keep the
 * storage.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { environmentFault } from "../src/host/env-fault.js";
import { blameEnvironment } from "../src/launcher/rank-runtime.js";
import { LogFailedError, StorageIoError, ioError } from "../src/storage/errors.js";
import { freePorts } from "../src/launcher/tcp-job.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "runtime-core/bin/egida-run.js");
const WRITER = join(ROOT, "examples/apps/writer.mjs");
const TOKEN_RING = join(ROOT, "examples/apps/token-ring.mjs");
/** Logs every delivery to nfs-disk (events and reads logs, a rank lock): storage is written from the first step. */
const LOGGING = ["--protocol", "generated/receiver-based-pessimistic"];
const tmp = mkdtempSync(join(tmpdir(), "egida-env-faults-"));
const mounts: string[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Started {
  child: ChildProcess;
  done: Promise<Run>;
  /** Resolves once stdout or stderr matches. */
  saw(re: RegExp): Promise<void>;
}

function start(args: readonly string[], opts: { uid?: number; detached?: boolean; timeoutMs?: number } = {}): Started {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    detached: opts.detached ?? false,
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}),
  });
  let stdout = "";
  let stderr = "";
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const check = (): void => {
    for (const w of waiters.splice(0)) {
      if (w.re.test(stdout) || w.re.test(stderr)) w.resolve();
      else waiters.push(w);
    }
  };
  child.stdout!.on("data", (d: Buffer) => ((stdout += d.toString()), check()));
  child.stderr!.on("data", (d: Buffer) => ((stderr += d.toString()), check()));
  const done = new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`egida-run ${args.join(" ")} timed out\n${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return {
    child,
    done,
    saw: (re) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ re, resolve });
        check();
        void done.then((r) => reject(new Error(`exited ${r.code} before printing ${re}\n${r.stderr}`)));
      }),
  };
}

const run = (args: readonly string[], opts: { uid?: number } = {}): Promise<Run> => start(args, opts).done;

/** A user mistake or environment fault never prints a stack. */
function noStack(r: Run): void {
  expect(r.stderr).not.toContain("    at ");
  expect(r.stderr).not.toMatch(/internal error/);
}

function mount(dir: string, options: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], { stdio: "pipe" });
  mounts.push(dir);
}

/**
 * Mounting needs root (CI runs the tests as root). Probed once with a real
 * mount; where it is refused, the tests that need a real full or read-only
 * file system are skipped (their reason is this probe).
 */
const canMount = ((): boolean => {
  const probe = join(tmp, "probe");
  try {
    mkdirSync(probe);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { stdio: "pipe" });
    execFileSync("umount", [probe], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
})();
/** Dropping to an unprivileged uid (for EACCES: root bypasses permissions) needs root too. */
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

afterAll(() => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync("umount", ["-l", m], { stdio: "pipe" });
    } catch {
      // Already unmounted.
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

/** A Node errno error as fs raises it (a write through a file handle has no path). */
function errno(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall}`), { code, syscall, ...(path ? { path } : {}) });
}

describe("classifying environment faults", () => {
  it("finds the fault behind a failed log (LogFailedError → StorageIoError → errno)", () => {
    const io = ioError(errno("ENOSPC", "write"), "append to", "/s/log-events/seg-0.log");
    expect(io).toBeInstanceOf(StorageIoError);
    expect(environmentFault(new LogFailedError("/s/log-events", io))).toEqual({
      area: "storage",
      op: "append to",
      file: "/s/log-events/seg-0.log",
      code: "ENOSPC",
    });
  });

  it("names a raw errno error by its syscall and path", () => {
    expect(environmentFault(errno("EACCES", "open", "/x/out.jsonl"))).toEqual({ area: "file system", op: "open", file: "/x/out.jsonl", code: "EACCES" });
  });

  it("leaves other errors alone: they are bugs (internal, with their stack)", () => {
    expect(environmentFault(errno("EBADF", "write"))).toBeUndefined();
    expect(environmentFault(ioError(errno("EINVAL", "write"), "append to", "/s/seg"))).toBeUndefined();
    expect(environmentFault(new TypeError("x is undefined"))).toBeUndefined();
    expect(ioError(new TypeError("x"), "append to", "/s/seg")).toBeInstanceOf(TypeError);
  });

  it("a protocol's unrecoverable/internal report after a storage fault is blamed on the fault; an app error is not", () => {
    const fault = { area: "storage", op: "append to", file: "/s/seg", code: "ENOSPC" } as const;
    expect(blameEnvironment({ kind: "unrecoverable", rank: 2, reason: "delivery pump: Error: ENOSPC" }, fault)).toEqual({ kind: "environment", rank: 2, ...fault });
    expect(blameEnvironment({ kind: "internal", rank: 1, message: "m", stack: "s" }, fault).kind).toBe("environment");
    expect(blameEnvironment({ kind: "app-error", rank: 1, message: "m", stack: "s" }, fault).kind).toBe("app-error");
    expect(blameEnvironment({ kind: "unrecoverable", rank: 2, reason: "more than f" }, undefined).kind).toBe("unrecoverable");
  });
});

describe("environment faults end with exit 7 and one line", () => {
  // Root only: an unprivileged user cannot mount a tmpfs.
  it.skipIf(!canMount)("a storage directory that fills up while the job runs: ENOSPC from the rank that hit it", async () => {
    const dir = join(tmp, "full");
    mount(dir, "size=256k");
    // Leave a little room so the job starts (locks, first segments) and fills it within its first deliveries.
    writeFileSync(join(dir, "filler"), Buffer.alloc(160 * 1024));
    const r = await run(["-n", "2", ...LOGGING, "-q", "--storage-dir", dir, WRITER, "--", "100000"]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toMatch(
      new RegExp(`egida-run: storage error on rank \\d: cannot [a-z ]+ ${dir}/shared/rank-\\d\\S*: no space left on device \\(ENOSPC\\); free space on that file system, or use another --storage-dir\\n`),
    );
    expect(r.stderr).toContain(`storage kept in ${dir}\n`);
    // What was logged before the disk filled is still there.
    expect(readdirSync(join(dir, "shared")).sort()).toEqual(["rank-0", "rank-1"]);
    noStack(r);
  });

  it.skipIf(!canMount)("a read-only storage directory is refused by the launcher before any rank starts: EROFS", async () => {
    const dir = join(tmp, "ro");
    mount(dir, "ro,size=1m");
    const r = await run(["-n", "2", ...LOGGING, "-q", "--storage-dir", dir, WRITER, "--", "5"]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toContain(
      `egida-run: storage error: cannot write to storage directory ${dir}: read-only file system (EROFS); the file system is mounted read-only: remount it read-write, or use another --storage-dir\n`,
    );
    noStack(r);
  });

  it.skipIf(!canMount)("a read-only mount inside the storage directory fails in the rank processes: EROFS over IPC", async () => {
    const dir = join(tmp, "ro-inside");
    // The directory itself is writable (the launcher's check passes); the ranks' nfs-disk area is not.
    mount(join(dir, "shared"), "ro,size=1m");
    const r = await run(["-n", "2", ...LOGGING, "-q", "--storage-dir", dir, WRITER, "--", "5"]);
    expect(r.code, r.stderr).toBe(7);
    // Node's recursive mkdir says ENOENT here; the storage layer finds the real cause.
    expect(r.stderr).toMatch(
      new RegExp(`egida-run: storage error on rank \\d: cannot take the storage lock in ${dir}/shared/rank-\\d: read-only file system \\(EROFS\\); `),
    );
    expect(r.stderr).toContain(`storage kept in ${dir}\n`);
    noStack(r);
  });

  // Root only: setuid to nobody (root itself is never refused for permissions).
  it.skipIf(!isRoot)("a storage directory without write permission: EACCES", async () => {
    const dir = join(tmp, "not-mine");
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(tmp, 0o755);
    const r = await run(["-n", "2", "--protocol", "none", "-q", "--storage-dir", dir, TOKEN_RING, "--", "3"], { uid: NOBODY });
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toContain(
      `egida-run: storage error: cannot write to storage directory ${dir}: permission denied (EACCES); give this user write access to it, or use another --storage-dir\n`,
    );
    noStack(r);

    // Writable for the user, but the ranks' nfs-disk area is not: reported by a rank.
    const mine = join(tmp, "mine");
    mkdirSync(join(mine, "shared"), { recursive: true, mode: 0o755 });
    chownSync(mine, NOBODY, NOBODY);
    const r2 = await run(["-n", "2", ...LOGGING, "-q", "--storage-dir", mine, WRITER, "--", "5"], { uid: NOBODY });
    expect(r2.code, r2.stderr).toBe(7);
    expect(r2.stderr).toMatch(new RegExp(`egida-run: storage error on rank \\d: cannot take the storage lock in ${mine}/shared/rank-\\d: permission denied \\(EACCES\\); `));
    noStack(r2);
  });

  it("a storage directory whose parent is missing is refused; a missing last component is created", async () => {
    const missing = join(tmp, "no-such-parent", "storage");
    const r = await run(["-n", "2", ...LOGGING, "-q", "--storage-dir", missing, WRITER, "--", "5"]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toContain(
      `egida-run: storage error: cannot create storage directory ${missing}: its parent ${join(tmp, "no-such-parent")} does not exist or is not a directory (ENOENT); create the parent first`,
    );
    expect(existsSync(join(tmp, "no-such-parent"))).toBe(false);
    noStack(r);

    const fresh = join(tmp, "fresh-storage");
    const ok = await run(["-n", "2", ...LOGGING, "-q", "--storage-dir", fresh, WRITER, "--", "5"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readdirSync(join(fresh, "shared")).sort()).toEqual(["rank-0", "rank-1"]);
  });

  it("a storage directory that is a file: ENOTDIR", async () => {
    const file = join(tmp, "a-file");
    writeFileSync(file, "");
    const r = await run(["-n", "2", ...LOGGING, "-q", "--storage-dir", file, WRITER, "--", "5"]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toContain(`egida-run: storage error: cannot use storage directory ${file}: it exists and is not a directory (ENOTDIR)`);
    noStack(r);
  });

  it.skipIf(!canMount)("an --output file on a full file system: ENOSPC from the launcher", async () => {
    const dir = join(tmp, "full-output");
    mount(dir, "size=64k");
    const out = join(dir, "out.jsonl");
    const r = await run(["-n", "2", "--protocol", "none", "-q", "--output", out, WRITER, "--", "5000"]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toContain(`egida-run: output file error: cannot append to ${out}: no space left on device (ENOSPC); free space on that file system, or use another --output\n`);
    noStack(r);
  });

  it("single-rank mode: a missing or unreadable --secret-file", async () => {
    const base = ["--rank", "0", "--peers", "127.0.0.1:1,127.0.0.1:2", "--protocol", "none", "--storage-dir", join(tmp, "single")];
    const missing = join(tmp, "no-secret");
    const r = await run([...base, "--secret-file", missing, TOKEN_RING]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toBe(
      `egida-run[rank 0]: secret file error on rank 0: cannot read secret file ${missing}: no such file or directory (ENOENT); check the path given to --secret-file\n`,
    );
    const dir = await run([...base, "--secret-file", tmp, TOKEN_RING]);
    expect(dir.code, dir.stderr).toBe(7);
    expect(dir.stderr).toContain(`cannot read secret file ${tmp}: is a directory (EISDIR)`);
  });
});

describe("SIGINT and SIGTERM stop the job, keep its storage, exit 130 / 143", () => {
  /** No process is left in group `pgid` (the launcher and its ranks). */
  function groupGone(pgid: number): boolean {
    try {
      process.kill(-pgid, 0);
      return false;
    } catch {
      return true;
    }
  }

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s to the whole process group (as Ctrl-C does) → exit %i", async (signal, code) => {
    const dir = join(tmp, `interrupt-${signal}`);
    // Own process group, so the signal reaches the launcher and every rank, as from a terminal.
    const job = start(["-n", "2", ...LOGGING, "--storage-dir", dir, WRITER, "--", "100000"], { detached: true });
    // Both ranks are live (their storage is open) and logging.
    await job.saw(/\[rank 0\]/);
    await job.saw(/\[rank 1\]/);
    process.kill(-job.child.pid!, signal);
    const r = await job.done;
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toContain(`egida-run: interrupted (${signal}); storage kept in ${dir}\n`);
    // The ranks stopped too (nothing restarted them), and what they logged is still there.
    await expect.poll(() => groupGone(job.child.pid!), { timeout: 5000 }).toBe(true);
    expect(readdirSync(join(dir, "shared")).sort()).toEqual(["rank-0", "rank-1"]);
    noStack(r);
  });

  it("the default temporary storage is kept and named on an interrupt", async () => {
    const job = start(["-n", "2", ...LOGGING, WRITER, "--", "100000"]);
    await job.saw(/\[rank 1\]/);
    job.child.kill("SIGTERM");
    const r = await job.done;
    expect(r.code, r.stderr).toBe(143);
    const m = /interrupted \(SIGTERM\); storage kept in (\S+)\n/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(existsSync(join(m![1]!, "shared"))).toBe(true);
    rmSync(m![1]!, { recursive: true, force: true });
  });

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("single-rank mode: %s → exit %i, storage kept", async (signal, code) => {
    const ports = await freePorts(2, "127.0.0.1");
    const dir = join(tmp, `single-${signal}`);
    const secret = join(tmp, "secret");
    writeFileSync(secret, "env-faults-test-secret");
    // Rank 1 never starts: rank 0 waits for it until it is stopped.
    const job = start([
      "--rank", "0", "--peers", ports.map((p) => `127.0.0.1:${p}`).join(","), "--secret-file", secret,
      ...LOGGING, "--storage-dir", dir, WRITER, "--", "5",
    ]);
    await job.saw(/starting incarnation 0 of 2 ranks/);
    job.child.kill(signal);
    const r = await job.done;
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toContain(`egida-run[rank 0]: interrupted (${signal}); storage kept in ${dir}\n`);
    expect(existsSync(join(dir, "incarnation-rank-0"))).toBe(true);
    noStack(r);
  });
});
