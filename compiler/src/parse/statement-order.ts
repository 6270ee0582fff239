/**
 * Statement-level checks that need source order, which the IR does not keep:
 * Figure 1's group order (E-order) and repeated statements (E-duplicate).
 * The grammar accepts statements in any order precisely so these can name
 * both statements involved.
 */
import type { Diagnostic } from "../diagnostics/types.js";
import type { SourceSpan } from "../ir/types.js";
import type { SpecAst, Statement, StatementKind } from "./ast.js";

/** Figure 1's order; the header (an extension) comes first. */
const RANK: Readonly<Record<StatementKind, number>> = {
  header: 0,
  "non-det": 1,
  "output-commit": 2,
  "dep-gen": 3,
  checkpoint: 4,
  retrieve: 5,
  orphans: 6,
  rollback: 7,
};

const DESCRIPTION: Readonly<Record<StatementKind, string>> = {
  header: "the `protocol` header",
  "non-det": "a non-deterministic event statement (`<event>: determinant : ...`)",
  "output-commit": "an output commit statement",
  "dep-gen": "a dependency-generating event statement (`<event>: Piggyback/Log ...`)",
  checkpoint: "the checkpoint statement",
  retrieve: "`Protocol to retrieve determinants`",
  orphans: "`Protocol to detect orphans`",
  rollback: "`On rollback`",
};

const ORDER_HINT =
  "Figure 1 orders the statements: protocol header, non-deterministic events, output commit, " +
  "dependency-generating events, checkpoint, then recovery (retrieve determinants, detect orphans, on rollback)";

const at = (loc: SourceSpan): string => `${loc.line}:${loc.column}`;

/** The span of a statement's first line-ish part, for carets that do not run over many lines. */
function head(s: Statement): SourceSpan {
  switch (s.kind) {
    case "non-det":
    case "dep-gen":
      return { ...s.event.loc };
    case "header":
      return s.keywordLoc;
    default:
      return s.loc;
  }
}

export function checkStatementOrder(ast: SpecAst, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  let max: Statement | null = null;
  for (const s of ast.statements) {
    if (max && RANK[s.kind] < RANK[max.kind]) {
      out.push({
        severity: "error",
        code: "E-order",
        message: `${DESCRIPTION[s.kind]} must come before ${DESCRIPTION[max.kind]} (at ${at(max.loc)})`,
        file,
        loc: head(s),
        hint: ORDER_HINT,
      });
    } else if (!max || RANK[s.kind] > RANK[max.kind]) {
      max = s;
    }
  }
  return out;
}

/** The key under which two statements are duplicates, or null if a kind may repeat freely. */
function duplicateKeys(s: Statement): { key: string; what: string; loc: SourceSpan }[] {
  switch (s.kind) {
    case "non-det":
      return [{ key: `non-det:${s.event.text.toLowerCase()}`, what: `non-deterministic event statement for \`${s.event.text}\``, loc: s.event.loc }];
    case "dep-gen":
      return [{ key: `dep-gen:${s.event.text.toLowerCase()}`, what: `dependency-generating statement for \`${s.event.text}\``, loc: s.event.loc }];
    case "output-commit":
      return s.events.map((e) => ({ key: `output-commit:${e.text.toLowerCase()}`, what: `output commit for \`${e.text}\``, loc: e.loc }));
    default:
      return [{ key: s.kind, what: DESCRIPTION[s.kind], loc: head(s) }];
  }
}

const DUPLICATE_HINT: Partial<Record<StatementKind, string>> = {
  "dep-gen": "combine them into one statement: `<event>: Piggyback ... Log ... on ...`",
  "output-commit": "each event has one output commit protocol",
};

export function checkDuplicateStatements(ast: SpecAst, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const first = new Map<string, SourceSpan>();
  for (const s of ast.statements) {
    for (const k of duplicateKeys(s)) {
      const prev = first.get(k.key);
      if (prev) {
        out.push({
          severity: "error",
          code: "E-duplicate",
          message: `second ${k.what}; the first is at ${at(prev)}`,
          file,
          loc: k.loc,
          hint: DUPLICATE_HINT[s.kind] ?? "a protocol has at most one of these; remove one",
        });
      } else {
        first.set(k.key, k.loc);
      }
    }
  }
  return out;
}
