/**
 * What the launcher can see of a rank process from outside, without its
 * cooperation: Linux /proc/PID/stat (run state and CPU time). This is what
 * tells a rank computing in a long synchronous loop (its event loop, hence
 * its IPC reports, are blocked, but it burns CPU) from a stopped one
 * (SIGSTOP: state T, no CPU). Elsewhere it answers null and the stall
 * detector relies on the ranks' own reports.
 */
import { readFileSync } from "node:fs";

export interface ProcSample {
  /** The kernel's one-letter state: R running, S sleeping, D disk wait, T stopped, t traced, Z zombie. */
  readonly state: string;
  /** User + system CPU time, ms. */
  readonly cpuMs: number;
  /** The parent's pid (tests find a launcher's rank processes by it). */
  readonly ppid: number;
}

/** Clock ticks per second of utime/stime: 100 on every Linux configuration Node runs on (USER_HZ). */
const TICKS_PER_S = 100;

export function readProcStat(pid: number): ProcSample | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null; // not Linux, or the process is gone
  }
  // The command name (field 2) is in parentheses and may hold spaces or ')': parse after the last ')'.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (rest[0] === undefined || !Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { state: rest[0], cpuMs: ((utime + stime) * 1000) / TICKS_PER_S, ppid: Number(rest[1]) };
}

/** A stopped process (SIGSTOP, SIGTSTP, or a debugger's stop): it runs nothing until continued. */
export function isStoppedState(state: string): boolean {
  return state === "T" || state === "t";
}
