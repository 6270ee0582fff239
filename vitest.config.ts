import { defineConfig } from "vitest/config";

/**
 * Two groups, run one after the other (sequence.groupOrder):
 *  - `compute`: the compiler's tests and the simulated protocol and
 *    conformance tests. Virtual time, no process of their own and nothing
 *    timed, so two files run at once (one per core).
 *  - `processes`: everything that starts OS processes, opens real sockets or
 *    waits on wall-clock windows (the launcher, transports, stall detection,
 *    real-process kills, installs from a registry, the browser). One file at
 *    a time, as the whole suite ran before: their timing is what they test.
 */
const COMPUTE = ["compiler/test/**/*.test.ts", "test/protocols/**/*.test.ts", "test/conformance/**/*.test.ts"];
const COMPUTE_EXCEPT = ["test/protocols/realhost*.test.ts"];
const EXCLUDE = ["**/node_modules/**", "**/dist/**"];

export default defineConfig({
  test: {
    exclude: EXCLUDE,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The JSON report feeds the "N passed, N failed" line of .ci/run.
    reporters: ["default", "json"],
    outputFile: { json: "test-results.json" },
    projects: [
      {
        extends: true,
        test: {
          name: "compute",
          include: COMPUTE,
          exclude: [...EXCLUDE, ...COMPUTE_EXCEPT],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "processes",
          include: ["runtime-core/test/**/*.test.ts", "test/*.test.ts", "test/realproc/**/*.test.ts", "test/plugins/**/*.test.ts", "test/deploy/**/*.test.ts", "generated/*/test/**/*.test.ts", ...COMPUTE_EXCEPT],
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
