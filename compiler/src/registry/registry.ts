/**
 * The block registry: built-ins plus plugin blocks, indexed by variable, id and
 * normalised spelling. Conflicts are reported, never thrown.
 */
import type { BlockDef, Registry, Variable } from "./types.js";
import { normalizeSpelling, spellingProblem } from "./shape.js";

export const VARIABLES: readonly Variable[] = [
  "output-commit-proto",
  "event-info",
  "how-to-log",
  "storage",
  "pb-value",
  "pb-tracking",
  "ckpt-proto",
  "how-to-ckpt",
  "ckpt-impl",
  "recovery-get-det-proto",
  "orphan-detection-proto",
];

/** Human names of the variables, for messages. */
export const VARIABLE_NAMES: Readonly<Record<Variable, string>> = {
  "output-commit-proto": "output-commit protocol",
  "event-info": "event-info",
  "how-to-log": "how-to-log",
  storage: "storage",
  "pb-value": "piggyback value",
  "pb-tracking": "determinant-tracking modifier",
  "ckpt-proto": "checkpoint protocol",
  "how-to-ckpt": "how-to-checkpoint",
  "ckpt-impl": "checkpoint implementation",
  "recovery-get-det-proto": "determinant-retrieval protocol",
  "orphan-detection-proto": "orphan-detection protocol",
};

/** Why a block could not be added. */
export interface RegistrationProblem {
  readonly block: BlockDef;
  readonly message: string;
}

export class BlockRegistry implements Registry {
  readonly #byVariable = new Map<Variable, BlockDef[]>();
  readonly #bySpelling = new Map<string, BlockDef>();
  readonly #byId = new Map<string, BlockDef>();
  readonly #all: BlockDef[] = [];

  /** Add a block; returns the problems (and adds nothing) if it conflicts or cannot be written. */
  add(block: BlockDef): RegistrationProblem[] {
    const problems: RegistrationProblem[] = [];
    const key = (s: string) => `${block.variable}\u0000${s}`;
    const existing = this.#byId.get(key(block.id));
    if (existing) problems.push({ block, message: `${block.variable} id \`${block.id}\` is already registered by ${existing.origin}` });
    if (block.spellings.length === 0) problems.push({ block, message: `block \`${block.id}\` has no spellings` });
    const seen = new Set<string>();
    for (const s of block.spellings) {
      const bad = spellingProblem(block.variable, s);
      if (bad) problems.push({ block, message: `spelling \`${s}\` of ${block.variable} \`${block.id}\` ${bad}` });
      const n = normalizeSpelling(s);
      const other = this.#bySpelling.get(key(n));
      if (other) problems.push({ block, message: `${block.variable} spelling \`${s}\` already denotes \`${other.id}\` (${other.origin})` });
      if (seen.has(n)) problems.push({ block, message: `spelling \`${s}\` is listed twice` });
      seen.add(n);
    }
    if (problems.length > 0) return problems;
    this.#byId.set(key(block.id), block);
    for (const s of block.spellings) this.#bySpelling.set(key(normalizeSpelling(s)), block);
    const list = this.#byVariable.get(block.variable) ?? [];
    list.push(block);
    this.#byVariable.set(block.variable, list);
    this.#all.push(block);
    return [];
  }

  values(variable: Variable): readonly BlockDef[] {
    return this.#byVariable.get(variable) ?? [];
  }

  resolve(variable: Variable, spelling: string): BlockDef | undefined {
    return this.#bySpelling.get(`${variable}\u0000${normalizeSpelling(spelling)}`);
  }

  get(variable: Variable, id: string): BlockDef | undefined {
    return this.#byId.get(`${variable}\u0000${id}`);
  }

  all(): readonly BlockDef[] {
    return this.#all;
  }

  /** Every spelling of a variable (for "known values" lists and suggestions). */
  spellings(variable: Variable): string[] {
    return this.values(variable).flatMap((b) => b.spellings);
  }
}

/** A registry of the given blocks; problems are returned, not thrown. */
export function createRegistry(blocks: readonly BlockDef[]): { registry: BlockRegistry; problems: RegistrationProblem[] } {
  const registry = new BlockRegistry();
  const problems = blocks.flatMap((b) => registry.add(b));
  return { registry, problems };
}

/** Every spelling of a variable, for "known values" lists and suggestions. */
export function knownSpellings(registry: Registry, variable: Variable): string[] {
  return registry.values(variable).flatMap((b) => b.spellings);
}
