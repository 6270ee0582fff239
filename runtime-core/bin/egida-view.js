#!/usr/bin/env node
// egida-view: draw a run trace (egida-run --trace FILE). Built code lives in ../dist (root `npm run build`).
import { main } from "../dist/view/cli.js";

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`egida-view: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 6;
}
