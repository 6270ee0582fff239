#!/usr/bin/env node
// egida-run: the launcher. Built code lives in ../dist (root `npm run build`).
import { main } from "../dist/launcher/main.js";

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`egida-run: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(6);
  },
);
