/**
 * Runs one job under the real launcher (`egida-run` over TCP: one process per
 * rank, SIGKILLs, the watchdog) as a child process, and reads back what it
 * reported: exit code, per-rank outputs (`--output` JSONL), kills, restarts,
 * recoveries and the summary's counters.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LIVE_RESET } from "../../../runtime-core/src/launcher/ipc.js";
import { readProcStat } from "../../../runtime-core/src/launcher/proc-stat.js";
import { EGIDA_RUN, ROOT } from "./paths.js";

export interface RunSpec {
  readonly size: number;
  /** A directory, a package name, or "none". */
  readonly protocol: string;
  /** Path of the app module. */
  readonly app: string;
  readonly args?: readonly string[];
  /** `--kill` values: "R@Kmsgs" or "R@Tms". */
  readonly kills?: readonly string[];
  /**
   * SIGKILLs from outside the launcher, as an operator or the OOM killer
   * would send them: `atMs` after launch, `kill -9` the current process of
   * each rank listed (found by its parent, the launcher, and its `--rank=R`).
   */
  readonly externalKills?: readonly ExternalKill[];
  readonly storageDir?: string;
  readonly restartDelayMs?: number;
  readonly timeoutMs?: number;
  /** Called for each launcher line on stderr, as it arrives (e.g. to corrupt storage between incarnations). */
  readonly onLine?: (line: string) => void;
  /** Run under `--sim` (one process, virtual time) instead of TCP. */
  readonly sim?: boolean;
  /** Extra environment (e.g. EGIDA_DEBUG). */
  readonly env?: Readonly<Record<string, string>>;
  /** `--trace FILE`: the run's trace (JSONL). */
  readonly trace?: string;
}

export interface ExternalKill {
  readonly atMs: number;
  readonly ranks: readonly number[];
}

export interface KillEvent {
  readonly rank: number;
  readonly incarnation: number;
  /** Delivery count for count kills, undefined for time kills. */
  readonly atDelivery?: number;
  /** Index of the stderr line, to order it against other events. */
  readonly line: number;
}

export interface RunResult {
  readonly code: number;
  readonly ms: number;
  readonly stderr: string;
  /** Per rank, the committed outputs in release order (JSON values). */
  readonly outputs: unknown[][];
  readonly kills: KillEvent[];
  /** Per kill-less crash (watchdog saw an unexpected death). */
  readonly otherDeaths: number;
  readonly restarts: number;
  /** Recoveries completed: [rank, incarnation, replayed, line]. */
  readonly recoveries: { rank: number; replayed: number; line: number }[];
  /** "rank R incarnation I is live" lines. */
  readonly lives: { rank: number; incarnation: number; line: number }[];
  /** "rank R: rolled back: ..." lines: the protocol's rollback trace events (a recovering rank's or a survivor's). */
  readonly rollbacks: { rank: number; reason: string; line: number }[];
  /**
   * The host saw the protocol reset the app state of a live process (after
   * its start() resolved): rollbacks of processes that had not failed,
   * whatever the protocol traces (LIVE_RESET lines).
   */
  readonly liveResets: { rank: number; how: string; line: number }[];
  readonly summary: Summary | null;
  /** The command line that reproduces this run. */
  readonly command: string;
  /** External SIGKILLs that found their rank's process (not in `kills`: the launcher does not log them as kills). */
  readonly externalFired: { readonly rank: number; readonly atMs: number }[];
}

export interface Summary {
  readonly messages: number;
  readonly deliveries: number;
  readonly outputs: number;
  readonly restarts: number;
  readonly piggybackBytes: number;
  readonly bytesLogged: number;
  readonly checkpoints: number;
  readonly rollbacks: number;
  readonly perRankDeliveries: number[];
  /** Per rank, how often the watchdog restarted it (every incarnation counted). */
  readonly perRankRestarts: number[];
  readonly jobMs: number;
}

export function commandLine(s: RunSpec, output = "OUT.jsonl"): string[] {
  const a: string[] = ["-n", String(s.size), "-q", "--protocol", s.protocol, "--output", output];
  if (s.sim === true) a.push("--sim");
  for (const k of s.kills ?? []) a.push("--kill", k);
  if (s.storageDir !== undefined) a.push("--storage-dir", s.storageDir);
  if (s.restartDelayMs !== undefined) a.push("--restart-delay", String(s.restartDelayMs));
  if (s.timeoutMs !== undefined) a.push("--timeout", String(s.timeoutMs));
  if (s.trace !== undefined) a.push("--trace", s.trace);
  a.push(s.app);
  if (s.args !== undefined && s.args.length > 0) a.push("--", ...s.args);
  return a;
}

export async function runEgida(s: RunSpec): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "egida-realproc-"));
  const out = join(dir, "out.jsonl");
  const args = commandLine(s, out);
  const started = performance.now();
  const child = spawn(process.execPath, [EGIDA_RUN, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, ...s.env },
  });
  const externalFired: { rank: number; atMs: number }[] = [];
  const timers = (s.externalKills ?? []).map((k) =>
    setTimeout(() => {
      for (const r of k.ranks) {
        const pid = child.pid === undefined ? undefined : rankPid(child.pid, r);
        if (pid === undefined) continue; // between incarnations, or the job ended
        try {
          process.kill(pid, "SIGKILL");
          externalFired.push({ rank: r, atMs: k.atMs });
        } catch {
          // it exited meanwhile
        }
      }
    }, k.atMs),
  );
  const lines: string[] = [];
  let buf = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      s.onLine?.(line);
    }
  });
  const code = await new Promise<number>((res) => child.on("close", (c, sig) => res(c ?? (sig ? 128 : 1))));
  for (const t of timers) clearTimeout(t);
  if (buf !== "") lines.push(buf);
  const ms = performance.now() - started;
  let outputs: unknown[][] = Array.from({ length: s.size }, () => []);
  try {
    outputs = parseOutputs(readFileSync(out, "utf8"), s.size);
  } catch {
    // no output file: the job failed before any output
  }
  rmSync(dir, { recursive: true, force: true });
  const shown = commandLine(s, "out.jsonl").map((x) => (/^[\w@./:=-]+$/.test(x) ? x : `'${x}'`));
  const ext = (s.externalKills ?? []).map((k) => `${k.ranks.join("+")}@${k.atMs}ms`).join(", ");
  // With a trace to view the run (docs/trace.md); not written by the campaign's own run.
  const command = `node runtime-core/bin/egida-run.js --trace run.jsonl ${shown.join(" ")}${ext === "" ? "" : `   # and kill -9 from outside: ${ext}`}`;
  return { code, ms, stderr: lines.join("\n"), outputs, ...parseEvents(lines), command, externalFired };
}

/** The pid of rank `rank`'s current process under the launcher `launcher` (Linux /proc), if any. */
export function rankPid(launcher: number, rank: number): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return undefined;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    if (readProcStat(Number(e))?.ppid !== launcher) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0").includes(`--rank=${rank}`)) return Number(e);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

export function parseOutputs(text: string, size: number): unknown[][] {
  const per: unknown[][] = Array.from({ length: size }, () => []);
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const o = JSON.parse(line) as { rank: number; data: unknown };
    per[o.rank]!.push(o.data);
  }
  return per;
}

function parseEvents(lines: readonly string[]): Omit<RunResult, "code" | "ms" | "stderr" | "outputs" | "command" | "externalFired"> {
  const kills: KillEvent[] = [];
  const recoveries: RunResult["recoveries"] = [];
  const lives: RunResult["lives"] = [];
  const rollbacks: RunResult["rollbacks"] = [];
  const liveResets: RunResult["liveResets"] = [];
  const resetLine = new RegExp(`rank (\\d+): ${LIVE_RESET} \\((\\w+)\\)`);
  let restarts = 0;
  let otherDeaths = 0;
  lines.forEach((l, line) => {
    let m = /rank (\d+) killed at its delivery (\d+) \(incarnation (\d+)\)/.exec(l);
    if (m) kills.push({ rank: Number(m[1]), atDelivery: Number(m[2]), incarnation: Number(m[3]), line });
    m = /: SIGKILL rank (\d+) \(incarnation (\d+)\)/.exec(l);
    if (m) kills.push({ rank: Number(m[1]), incarnation: Number(m[2]), line });
    if (/watchdog: rank \d+ died/.test(l)) otherDeaths++;
    m = /rank (\d+): rolled back: (.*)$/.exec(l);
    if (m) rollbacks.push({ rank: Number(m[1]), reason: m[2]!, line });
    m = resetLine.exec(l);
    if (m) liveResets.push({ rank: Number(m[1]), how: m[2]!, line });
    if (/watchdog: restarting rank/.test(l)) restarts++;
    m = /rank (\d+): recovered \((\d+) replayed\)/.exec(l);
    if (m) recoveries.push({ rank: Number(m[1]), replayed: Number(m[2]), line });
    m = /rank (\d+) incarnation (\d+) is live/.exec(l);
    if (m) lives.push({ rank: Number(m[1]), incarnation: Number(m[2]), line });
  });
  return { kills, recoveries, lives, rollbacks, liveResets, restarts, otherDeaths, summary: parseSummary(lines) };
}

function num(text: string, re: RegExp): number {
  const m = re.exec(text);
  return m ? Number(m[1]) : 0;
}

/** The counters of egida-run's "job summary" block on stderr (null when the launcher printed none). */
export function parseSummary(lines: readonly string[]): Summary | null {
  const at = lines.findIndex((l) => l.includes("job summary"));
  if (at < 0) return null;
  const text = lines.slice(at).join("\n");
  const perRankDeliveries: number[] = [];
  const perRankRestarts: number[] = [];
  for (const l of lines.slice(at)) {
    const m = /^\s+rank (\d+): deliveries (\d+), outputs \d+, restarts (\d+)/.exec(l);
    if (m) {
      perRankDeliveries[Number(m[1])] = Number(m[2]);
      perRankRestarts[Number(m[1])] = Number(m[3]);
    }
  }
  return {
    messages: num(text, /messages (\d+), deliveries/),
    deliveries: num(text, /, deliveries (\d+), outputs/),
    outputs: num(text, /, outputs (\d+), restarts/),
    restarts: num(text, /, restarts (\d+)\n/),
    piggybackBytes: num(text, /piggyback bytes (\d+)/),
    bytesLogged: num(text, /bytes logged (\d+)/),
    checkpoints: num(text, /checkpoints (\d+), rollbacks/),
    rollbacks: num(text, /checkpoints \d+, rollbacks (\d+)\n/),
    perRankDeliveries,
    perRankRestarts,
    jobMs: num(text, /ranks, (\d+) ms\)/),
  };
}

const references = new Map<string, Promise<RunResult>>();

/**
 * The failure-free run of an app: `--sim --protocol none` (for deterministic
 * apps the per-rank outputs are the same as over TCP, docs/runtime.md), cached
 * per (app, args, size).
 */
export function referenceRun(app: string, args: readonly string[], size: number): Promise<RunResult> {
  const key = JSON.stringify([app, args, size]);
  let p = references.get(key);
  if (p === undefined) {
    p = runEgida({ size, protocol: "none", app, args, sim: true }).then((r) => {
      if (r.code !== 0) throw new Error(`failure-free reference run failed (exit ${r.code}): ${r.command}\n${r.stderr}`);
      return r;
    });
    references.set(key, p);
  }
  return p;
}
