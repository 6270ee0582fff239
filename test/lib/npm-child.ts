/**
 * Running npm (and the tools it installs) as a child of a test, the way a
 * user's shell would: without the npm_* variables a surrounding `npm test`
 * sets (its prefix, registry or config would win over the test's own).
 */
import { spawn } from "node:child_process";
import { expect } from "vitest";

export interface ChildRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment npm children see; `extra` is added last (e.g. npm_config_userconfig). */
export function npmChildEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== "INIT_CWD") env[k] = v;
  return { ...env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false", NO_COLOR: "1", FORCE_COLOR: "0", ...extra };
}

/** Run to its end (SIGKILLed after `timeoutMs`); never rejects on a non-zero exit. */
export function runChild(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 300_000): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, killSignal: "SIGKILL" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Run and require exit 0; the failure message carries the command and its output. */
export async function runChildOk(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<ChildRun> {
  const r = await runChild(cmd, args, cwd, env, timeoutMs);
  expect(r.code, `${cmd} ${args.join(" ")} (in ${cwd})\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`).toBe(0);
  return r;
}
