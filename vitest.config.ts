import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["compiler/test/**/*.test.ts", "runtime-core/test/**/*.test.ts", "test/**/*.test.ts", "generated/*/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The JSON report feeds the "N passed, N failed" line of .ci/run.
    reporters: ["default", "json"],
    outputFile: { json: "test-results.json" },
  },
});
