/**
 * The compiler's passes, in order (peggy's `passes` table): each reads what
 * the earlier ones wrote on the compilation and writes its own part. Every
 * entry point (the CLI's check, explain and compile, the bundler plugin,
 * regen) runs this list once per spec; a pass whose inputs are missing
 * (after an error) is skipped, not run twice or half.
 */
import { checkGeneratePass } from "./check-generate.js";
import { checkPass } from "./check.js";
import { classifyPass } from "./classify.js";
import type { Pass } from "./compilation.js";
import { decodePass } from "./decode.js";
import { factsPass } from "./facts.js";
import { generatePass } from "./generate.js";
import { lowerPass } from "./lower.js";
import { parsePass } from "./parse.js";
import { readPass } from "./read.js";
import { registryPass } from "./registry.js";
import { reportPass } from "./report.js";
import { selectPass } from "./select.js";

export const passes: readonly Pass[] = [
  readPass,
  registryPass,
  decodePass,
  parsePass,
  lowerPass,
  factsPass,
  classifyPass,
  checkPass,
  selectPass,
  checkGeneratePass,
  reportPass,
  generatePass,
];

/** The front end alone: the spec as IR, without checks (frontend.ts loadSpecFile). */
export const frontEndPasses: readonly Pass[] = [readPass, registryPass, decodePass, parsePass, lowerPass];
