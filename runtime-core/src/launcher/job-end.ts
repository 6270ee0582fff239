/**
 * How a failed or interrupted job ends on the terminal: one line for the
 * failure, and where its storage was kept (nothing is deleted, so the logs
 * and checkpoints can be inspected or the space freed by hand).
 */
import { describeFailure, exitCodeOf, type JobFailure } from "../host/errors.js";
import type { Reporter } from "./report.js";

/** Print the end of a job that failed; returns its exit code. */
export function reportJobFailure(reporter: Reporter, f: JobFailure, storageDir: string): number {
  if (f.kind === "interrupted") {
    reporter.event(`${describeFailure(f)}; storage kept in ${storageDir}`);
  } else {
    // An environment fault names its own kind ("storage error on rank 2: ..."): no "error:" in front.
    if (f.kind === "environment") reporter.event(describeFailure(f));
    else reporter.error(describeFailure(f));
    reporter.event(`storage kept in ${storageDir}`);
  }
  return exitCodeOf(f);
}
