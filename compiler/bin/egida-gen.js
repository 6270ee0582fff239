#!/usr/bin/env node
// egida-gen: see compiler/src/cli/main.ts (built to dist/ by `tsc -b`).
import { main } from "../dist/cli/main.js";

// `egida-gen explain x | head` closes stdout early: that is not an error.
process.stdout.on("error", (err) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
