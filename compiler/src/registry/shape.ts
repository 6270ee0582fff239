/**
 * Which spellings the grammar can actually parse for each variable (see the
 * header of grammar/egida.peggy). A plugin spelling that violates these would
 * register fine but could never be written in a spec, so the registry rejects it.
 */
import type { Variable } from "./types.js";

const WORD = /^[A-Za-z][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*$/;
const RESERVED = new Set(["log", "on", "piggyback", "protocol", "implementation"]);

/** Values that the grammar marks by position (one word before a keyword). */
const SINGLE_WORD: ReadonlySet<Variable> = new Set<Variable>(["output-commit-proto", "ckpt-proto", "how-to-log"]);

/** Collapse whitespace; comparison is case-insensitive. */
export function normalizeSpelling(s: string): string {
  return s.trim().replace(/\s+/g, " ").toLowerCase();
}

/** Why `spelling` cannot be written as a value of `variable`, or null if it can. */
export function spellingProblem(variable: Variable, spelling: string): string | null {
  const words = spelling.trim().split(/\s+/);
  if (words.length === 0 || words[0] === "") return "is empty";
  for (const w of words) {
    if (!WORD.test(w)) return `has the word \`${w}\`, which is not letters, digits, '_' and inner '-'`;
    if (RESERVED.has(w.toLowerCase())) return `has the reserved word \`${w}\``;
  }
  if (SINGLE_WORD.has(variable) && words.length > 1)
    return `must be one word (hyphens allowed) because it is a ${variable} value`;
  for (let i = 1; i < words.length; i++) {
    if (words[i]!.toLowerCase() === "checkpoint") return "may only have `checkpoint` as its first word";
    if (words[i]!.toLowerCase() === "commit" && words[i - 1]!.toLowerCase() === "output") return "contains `output commit`";
  }
  return null;
}
