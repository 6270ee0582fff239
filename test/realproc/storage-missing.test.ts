/**
 * Storage deleted between incarnations (issue 11 §9): under fig3a (optimistic
 * logging on NFS disk, volatile checkpoints) a restarted rank whose log or
 * rank directory had vanished recovered nothing, and every rank rolled back to
 * the initial state without a word. Now the rank manifest (rank.json) and the
 * log's segments.json let the restarted rank see what is gone: the job stops
 * with exit 3 (unrecoverable), naming the missing path.
 *
 * The test deletes the files itself while rank 1 is down: the kill line is
 * read as it arrives, and --restart-delay leaves 1.5 s before the new
 * incarnation opens its storage.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appCase } from "./lib/apps.js";
import { builtProtocol } from "./lib/protocols.js";
import { runEgida, type RunResult } from "./lib/run.js";

const PROTOCOL = "fig3a-damani-garg";
const STACK = /\n\s+at .+:\d+:\d+/;

async function runDeleting(remove: ((storage: string) => void) | null): Promise<RunResult & { removed: string[] }> {
  const storage = mkdtempSync(join(tmpdir(), "egida-missing-"));
  const a = appCase("token-ring");
  const removed: string[] = [];
  try {
    const run = await runEgida({
      size: 3,
      protocol: builtProtocol(PROTOCOL),
      app: a.path,
      args: ["60"],
      kills: ["1@20msgs"],
      storageDir: storage,
      restartDelayMs: 1500,
      timeoutMs: 40_000,
      onLine: (line) => {
        if (remove === null || !/rank 1 killed at its delivery/.test(line)) return;
        // The rank wrote its rank directory and log before it went live (every generated protocol opens its logs at start).
        removed.push(...readdirSync(join(storage, "shared", "rank-1")));
        remove(storage);
      },
    });
    return { ...run, removed };
  } finally {
    rmSync(storage, { recursive: true, force: true });
  }
}

function expectMissingReported(r: RunResult, what: RegExp): void {
  expect(r.code, r.stderr).toBe(3);
  expect(r.stderr).toMatch(/error: unrecoverable: storage missing: /);
  expect(r.stderr).toMatch(what);
  // Never a silent restart: the new incarnation did not go live, nobody rolled back, no summary of a finished job.
  expect(r.lives.filter((l) => l.rank === 1 && l.incarnation > 0)).toEqual([]);
  expect(r.rollbacks).toEqual([]);
  expect(r.summary).toBeNull();
  expect(r.stderr).not.toMatch(STACK);
}

describe("storage deleted while a rank is down is reported, not recovered from scratch", () => {
  it("fig3a: the rank's whole shared storage directory deleted → exit 3 naming the directory", async () => {
    const r = await runDeleting((storage) => rmSync(join(storage, "shared", "rank-1"), { recursive: true, force: true }));
    expect(r.removed).toEqual(expect.arrayContaining(["rank.json", "log-optimistic"]));
    expectMissingReported(r, /rank 1's storage directory \S+shared\/rank-1 has no rank\.json/);
  }, 60_000);

  it("fig3a: the log's segment files deleted → exit 3 naming the log", async () => {
    const r = await runDeleting((storage) => {
      const dir = join(storage, "shared", "rank-1", "log-optimistic");
      for (const n of readdirSync(dir)) if (n.startsWith("seg-")) rmSync(join(dir, n));
    });
    expectMissingReported(r, /every segment of log \S+shared\/rank-1\/log-optimistic is missing/);
  }, 60_000);

  it("fig3a: nothing deleted → the same kill recovers and the job succeeds (the checks do not fire on intact storage)", async () => {
    const r = await runDeleting(null);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/storage missing/);
    expect(r.lives.some((l) => l.rank === 1 && l.incarnation === 1)).toBe(true);
  }, 60_000);
});
