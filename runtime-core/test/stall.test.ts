/**
 * egida-run's stall detector end to end (spawns `node runtime-core/bin/egida-run.js`,
 * built by the root `npm run build`): a job that makes no progress ends with
 * exit 5 and a diagnosis of every rank, whatever the cause (an app that never
 * calls done, a stopped rank), and a rank that computes between messages for
 * longer than the window is not stalled.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { rankPid } from "../../test/realproc/lib/run.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "runtime-core/bin/egida-run.js");
/** `none` plus a 100 ms control-frame timer: protocol chatter that must not count as progress. */
const CHATTY = join(ROOT, "runtime-core/test/fixtures/chatty-protocol");
const tmp = mkdtempSync(join(tmpdir(), "egida-stall-test-"));

function appFile(name: string, source: string): string {
  const f = join(tmp, `${name}.mjs`);
  writeFileSync(f, source);
  return f;
}

/** Rank 0 sends one message to every other rank; nobody ever calls done. */
const NEVER_DONE = appFile(
  "never-done",
  `export default {
  init: () => ({ got: 0 }),
  onStart(s, ctx) { if (ctx.rank === 0) for (let r = 1; r < ctx.size; r++) ctx.send(r, "hi"); },
  onMessage(s) { s.got++; },
};\n`,
);

/** Rank 1 answers each of rank 0's 2 requests after a synchronous CPU loop of args[0] ms: no message meanwhile. */
const BUSY = appFile(
  "busy",
  `export default {
  init: ({ args }) => ({ ms: Number(args[0]), rounds: 2, n: 0 }),
  onStart(s, ctx) { if (ctx.rank === 0) ctx.send(1, 0); },
  async onMessage(s, m, ctx) {
    s.n++;
    if (ctx.rank === 1) {
      const end = Date.now() + s.ms;
      let x = 1;
      while (Date.now() < end) x = (x * 31 + 7) % 1000003;
      ctx.send(0, x);
      if (s.n === s.rounds) { await ctx.write({ rank: 1, computed: s.n }); ctx.done(); }
    } else if (s.n < s.rounds) ctx.send(1, s.n);
    else { await ctx.write({ rank: 0, replies: s.n }); ctx.done(); }
  },
};\n`,
);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: readonly string[]): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    // Far above every expected run time: only a detector that never fires hits it.
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`egida-run ${args.join(" ")} did not end\n${stderr}`));
    }, 45_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done };
}

const run = (args: readonly string[]): Promise<Run> => start(args).done;

const noStack = (s: string) => expect(s).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);

/** The launcher's rank process for `rank` (Linux /proc), once it exists. */
async function rankChild(launcherPid: number, rank: number): Promise<number> {
  for (let i = 0; i < 300; i++) {
    const pid = rankPid(launcherPid, rank);
    if (pid !== undefined) return pid;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no child process for rank ${rank} of launcher ${launcherPid}`);
}

describe("egida-run stall detection over TCP", () => {
  it("an app that never calls done: exit 5, naming every rank as running and idle", async () => {
    const r = await run(["-n", "3", "--protocol", "none", "-q", "--stall-timeout", "1500", NEVER_DONE]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/error: timeout: stalled: no progress for \d+\.\d s \(.*--stall-timeout 1500 ms\)/);
    expect(r.stderr).toMatch(/rank 0 \(incarnation 0\) running, not done: idle \(no delivery yet; 2 sends, 0 outputs\)/);
    for (const rank of [1, 2]) expect(r.stderr).toMatch(new RegExp(`rank ${rank} \\(incarnation 0\\) running, not done: idle \\(1 delivery, last \\d+\\.\\d s ago`));
    noStack(r.stderr);
  });

  it("protocol timer traffic is not progress: the never-done app under a chatty protocol stalls too", async () => {
    const r = await run(["-n", "2", "--protocol", CHATTY, "-q", "--stall-timeout", "3000", NEVER_DONE]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/stalled: no progress for .*rank 1 \(incarnation 0\) running, not done/);
  });

  // A stopped process is told apart by its kernel state (/proc/PID/stat "T"), which only Linux offers.
  it.skipIf(process.platform !== "linux")("a SIGSTOPped rank: exit 5, the rank named as stopped", async () => {
    const job = start(["-n", "3", "--protocol", "none", "-q", "--stall-timeout", "2000", join(ROOT, "examples/apps/token-ring.mjs"), "--", "100000000"]);
    let stopped = 0;
    try {
      stopped = await rankChild(job.child.pid!, 1);
      // Let the ring run a while first, so the stop lands mid-run (the diagnosis is the same either way).
      await new Promise((r) => setTimeout(r, 1500));
      process.kill(stopped, "SIGSTOP");
      const r = await job.done;
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/stalled: no progress for/);
      expect(r.stderr).toMatch(/rank 1 \(incarnation 0\) stopped \(process state T, e\.g\. SIGSTOP: no CPU, no report for \d+\.\d s/);
      // The others are idle (or, on a loaded machine, still starting: waiting for rank 1), not stopped.
      expect(r.stderr).toMatch(/rank 0 \(incarnation 0\) (running, not done: idle|starting)/);
      expect(r.stderr).not.toMatch(/rank [02] \(incarnation 0\) stopped/);
      noStack(r.stderr);
    } finally {
      job.child.kill("SIGKILL");
      try {
        if (stopped) process.kill(stopped, "SIGKILL");
      } catch {
        // already gone: the launcher killed it when the job failed
      }
    }
  });

  // A causal recovery that waits on a stopped peer: the diagnosis names the ranks that have not answered, not all those asked.
  it.skipIf(process.platform !== "linux")("a causal recovery waiting for a stopped peer: exit 5, naming the rank it still waits for", async () => {
    const fbl = join(ROOT, "generated/family-based-causal");
    const job = start(["-n", "4", "--protocol", fbl, "-q", "--stall-timeout", "5000", join(ROOT, "examples/apps/token-ring.mjs"), "--", "100000000"]);
    const pids: number[] = [];
    try {
      const victim = await rankChild(job.child.pid!, 1);
      const sleeper = await rankChild(job.child.pid!, 3);
      pids.push(victim, sleeper);
      await new Promise((r) => setTimeout(r, 1500));
      process.kill(sleeper, "SIGSTOP");
      process.kill(victim, "SIGKILL");
      const r = await job.done;
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/rank 1 \(incarnation 1\) recovering for \d+\.\d s.*last protocol note: "causal gather: waiting for determinants from ranks 3"/);
      expect(r.stderr).toMatch(/rank 3 \(incarnation 0\) stopped/);
      noStack(r.stderr);
    } finally {
      job.child.kill("SIGKILL");
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  });

  it("a rank computing for longer than the stall window between messages is not stalled: exit 0", async () => {
    // 2 x 4 s of CPU against a 1.5 s window: its IPC reports stop meanwhile (blocked event loop), its CPU time does not.
    const r = await run(["-n", "2", "--protocol", "none", "--stall-timeout", "1500", BUSY, "--", "4000"]);
    expect(r.stderr).not.toMatch(/stalled/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\[rank 1\] \{"rank":1,"computed":2\}/);
    expect(r.stdout).toMatch(/\[rank 0\] \{"rank":0,"replies":2\}/);
  });

  it("--stall-timeout 0 disables the detector (the job then runs until --timeout)", async () => {
    const r = await run(["-n", "2", "--protocol", "none", "-q", "--stall-timeout", "0", "--timeout", "3000", NEVER_DONE]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/timeout: not done after 3000 ms/);
    expect(r.stderr).not.toMatch(/stalled/);
  });
});

describe("egida-run stall detection with --sim (virtual time)", () => {
  it("an app that never calls done, with protocol timers keeping the simulation busy: exit 5 with the diagnosis", async () => {
    const r = await run(["-n", "3", "--protocol", CHATTY, "-q", "--sim", "--stall-timeout", "1500", NEVER_DONE]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/error: timeout: stalled: no progress for \d+\.\d virtual s \(.*--stall-timeout 1500 ms\)/);
    expect(r.stderr).toMatch(/rank 0 \(incarnation 0\) running, not done: idle \(no delivery yet; 2 sends, 0 outputs\)/);
    for (const rank of [1, 2]) expect(r.stderr).toMatch(new RegExp(`rank ${rank} \\(incarnation 0\\) running, not done: idle \\(1 delivery`));
    noStack(r.stderr);
  });

  it("by default (no --stall-timeout): the 10 virtual s window fires", async () => {
    const r = await run(["-n", "2", "--protocol", CHATTY, "-q", "--sim", NEVER_DONE]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/stalled: no progress for 10\.\d virtual s \(.*--stall-timeout 10000 ms\)/);
  });

  it("an idle simulation (no timers) is a deadlock at once, with the same diagnosis", async () => {
    const r = await run(["-n", "3", "--protocol", "none", "-q", "--sim", NEVER_DONE]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/the simulation went idle with ranks 0, 1, 2 not done .*; rank 0 \(incarnation 0\) running, not done: idle/);
  });
});
