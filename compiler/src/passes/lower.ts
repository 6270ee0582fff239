/**
 * Lower pass: syntax tree → ProtocolIR. Resolves every value through the
 * block registry to its canonical id (keeping its span), validates events,
 * determinant fields, the protocol name and options, and reports statement
 * order and duplicates (which only the tree, with source order, can see).
 * Any error → `ir: null`; all errors are reported, not just the first.
 */
import type { Diagnostic } from "../diagnostics/types.js";
import { suggest } from "../diagnostics/suggest.js";
import type {
  BlockRef,
  CheckpointStatement,
  DepGenStatement,
  EventKind,
  LogAction,
  NonDetStatement,
  OutputCommitStatement,
  PiggybackValue,
  ProtocolIR,
  ProtocolOptions,
  RecoveryStatement,
  RollbackAction,
  SourceSpan,
} from "../ir/types.js";
import { defaultNameForFile, nameProblem, sanitizeName } from "../ir/name.js";
import { DEFAULT_OPTIONS, F_MAX, F_MIN, INTERVAL_MAX_MS, INTERVAL_MIN_MS, UNIT_MS } from "../ir/options.js";
import type {
  HeaderStmt,
  LogClauseNode,
  OptionNode,
  PhraseNode,
  RollbackActionNode,
  SpecAst,
  Statement,
  WordNode,
} from "../parse/ast.js";
import { checkDuplicateStatements, checkStatementOrder } from "../parse/statement-order.js";
import { knownSpellings, VARIABLE_NAMES, VARIABLES } from "../registry/registry.js";
import type { BlockDef, Registry, Variable } from "../registry/types.js";

export const EVENTS: readonly EventKind[] = ["send", "receive", "read", "write"];
export const DETERMINANT_FIELDS = ["source", "sesn", "dest", "desn"] as const;
/** Other common names of the sequence numbers (ssn/rsn in most of the literature). */
const FIELD_ALIASES: Readonly<Record<string, string>> = { ssn: "sesn", rsn: "desn" };

export interface LowerResult {
  readonly ir: ProtocolIR | null;
  readonly diagnostics: readonly Diagnostic[];
}

class Lowerer {
  readonly diagnostics: Diagnostic[] = [];
  constructor(
    readonly file: string,
    readonly registry: Registry,
  ) {}

  error(code: string, message: string, loc: SourceSpan, hint?: string): void {
    this.diagnostics.push({ severity: "error", code, message, file: this.file, loc, ...(hint ? { hint } : {}) });
  }

  /** A value through the registry; null (with a diagnostic) if unknown. */
  block(variable: Variable, p: PhraseNode): BlockRef | null {
    const def = this.registry.resolve(variable, p.text);
    if (def) return { id: def.id, loc: p.loc };
    this.unknown(variable, p);
    return null;
  }

  unknown(variable: Variable, p: PhraseNode): void {
    const known = knownSpellings(this.registry, variable);
    const guess = suggest(p.text, known);
    const elsewhere = VARIABLES.filter((v) => v !== variable && this.registry.resolve(v, p.text)).map((v) => VARIABLE_NAMES[v]);
    let hint = guess ? `did you mean \`${guess}\`?` : undefined;
    const an = (w: string) => (/^[aeiou]/.test(w) ? `an ${w}` : `a ${w}`);
    if (!guess && elsewhere.length > 0) hint = `\`${p.text}\` is ${an(elsewhere.join(" / "))}, not ${an(VARIABLE_NAMES[variable])}`;
    if (!hint) hint = "a plugin named in egida.config.json can register new values";
    this.error(
      "E-unknown-value",
      `unknown ${VARIABLE_NAMES[variable]} \`${p.text}\`; known values: ${known.map((k) => `\`${k}\``).join(", ")}`,
      p.loc,
      hint,
    );
  }

  event(w: WordNode): EventKind | null {
    const e = w.text.toLowerCase();
    if ((EVENTS as readonly string[]).includes(e)) return e as EventKind;
    const guess = suggest(w.text, EVENTS);
    this.error(
      "E-unknown-event",
      `unknown event \`${w.text}\`; events are ${EVENTS.map((x) => `\`${x}\``).join(", ")}`,
      w.loc,
      guess ? `did you mean \`${guess}\`?` : "statements start with `<event> :` where the event is send, receive, read or write",
    );
    return null;
  }

  /** A comma-separated list of values of one variable, with duplicates reported. */
  blockList(variable: Variable, phrases: readonly PhraseNode[]): BlockRef[] | null {
    const out: BlockRef[] = [];
    let ok = true;
    for (const p of phrases) {
      const ref = this.block(variable, p);
      if (!ref) {
        ok = false;
        continue;
      }
      if (out.some((r) => r.id === ref.id)) {
        this.error("E-duplicate", `\`${p.text}\` is listed twice`, p.loc, "remove the repeated value");
        ok = false;
      }
      out.push(ref);
    }
    return ok ? out : null;
  }

  log(l: LogClauseNode): LogAction | null {
    const last = l.info[l.info.length - 1]!;
    if (!l.how) {
      const isHow = this.registry.resolve("how-to-log", last.text);
      this.error(
        "E-syntax",
        isHow
          ? `missing event-info before \`${last.text}\`: what is logged?`
          : "missing how-to-log before `on`",
        isHow ? last.loc : l.onLoc,
        isHow
          ? "write e.g. `Log determinant synchronously on NFS disk`"
          : `write \`Log ${l.info.map((i) => i.text).join(", ")} synchronously on ${l.where.text}\` (or asynchronously)`,
      );
      this.block("storage", l.where);
      return null;
    }
    const info = this.blockList("event-info", l.info);
    const how = this.block("how-to-log", l.how);
    const where = this.block("storage", l.where);
    return info && how && where ? { info, how, where, loc: l.loc } : null;
  }

  determinant(fields: readonly WordNode[], loc: SourceSpan): string[] | null {
    if (fields.length === 0) {
      this.error("E-determinant", "empty determinant structure", loc, "write `{source, sesn, dest, desn}`");
      return null;
    }
    const out: string[] = [];
    let ok = true;
    for (const f of fields) {
      const lower = f.text.toLowerCase();
      const name = FIELD_ALIASES[lower] ?? lower;
      if (!(DETERMINANT_FIELDS as readonly string[]).includes(name)) {
        const guess = suggest(f.text, DETERMINANT_FIELDS);
        this.error(
          "E-determinant",
          `unknown determinant field \`${f.text}\`; fields are source, sesn, dest, desn`,
          f.loc,
          guess ? `did you mean \`${guess}\`?` : "sesn is the send sequence number, desn the delivery sequence number",
        );
        ok = false;
      } else if (out.includes(name)) {
        this.error("E-duplicate", `determinant field \`${f.text}\` is listed twice`, f.loc, "remove the repeated field");
        ok = false;
      } else out.push(name);
    }
    return ok ? out : null;
  }

  piggyback(values: readonly PhraseNode[]): PiggybackValue[] | null {
    const out: { id: string; loc: SourceSpan; tracking?: BlockRef }[] = [];
    let ok = true;
    for (const p of values) {
      const def = this.registry.resolve("pb-value", p.text);
      if (def) {
        if (out.some((v) => v.id === def.id)) {
          this.error("E-duplicate", `\`${p.text}\` is piggybacked twice`, p.loc, "remove the repeated value");
          ok = false;
        }
        out.push({ id: def.id, loc: p.loc });
        continue;
      }
      const tracking = this.registry.resolve("pb-tracking", p.text);
      if (tracking) {
        const prev = out[out.length - 1];
        const prevDef: BlockDef | undefined = prev ? this.registry.get("pb-value", prev.id) : undefined;
        if (prev && prevDef?.params?.["tracking"] && !prev.tracking) {
          prev.tracking = { id: tracking.id, loc: p.loc };
        } else {
          const takers = this.registry.values("pb-value").filter((b) => b.params?.["tracking"]).map((b) => b.spellings[0]);
          this.error(
            "E-tracking",
            `\`${p.text}\` is a determinant-tracking modifier and must directly follow ${takers.map((t) => `\`${t}\``).join(" or ")}`,
            p.loc,
            `write \`Piggyback ${takers[0] ?? "determinants"}, ${p.text}\``,
          );
          ok = false;
        }
        continue;
      }
      this.unknown("pb-value", p);
      ok = false;
    }
    return ok ? out : null;
  }

  rollback(a: RollbackActionNode): RollbackAction | null {
    const storage = this.block("storage", a.storage);
    if (a.kind === "checkpoint") return storage ? { kind: "checkpoint", info: [], storage, loc: a.loc } : null;
    // `On rollback: Log determinant synchronously on ...`: the grammar has no how-to-log here.
    const last = a.info[a.info.length - 1]!;
    const lastWord = last.words[last.words.length - 1]!;
    if (last.words.length > 1 && this.registry.resolve("how-to-log", lastWord.text)) {
      this.error("E-syntax", `\`On rollback: Log\` takes no how-to-log (\`${lastWord.text}\`)`, lastWord.loc,
        "rollback logging is always synchronous: write `On rollback: Log determinant, message on NFS disk`");
      return null;
    }
    const info = this.blockList("event-info", a.info);
    return info && storage ? { kind: "log", info, storage, loc: a.loc } : null;
  }

  name(headers: readonly HeaderStmt[]): string {
    const explicit = headers.find((h) => h.name)?.name;
    if (explicit) {
      const problem = nameProblem(explicit.text);
      if (problem) {
        const fixed = sanitizeName(explicit.text);
        this.error("E-name", `protocol name \`${explicit.text}\` ${problem}`, explicit.loc,
          fixed ? `try \`protocol ${fixed}\`` : "names look like `sby-pessimistic`");
      }
      return explicit.text;
    }
    const derived = defaultNameForFile(this.file);
    if (!derived) {
      this.error("E-name", `cannot derive a protocol name from the file name \`${this.file}\``,
        { line: 1, column: 1, offset: 0, endOffset: 0 }, "add a header line: `protocol my-protocol`");
    }
    return derived;
  }

  options(headers: readonly HeaderStmt[]): ProtocolOptions {
    const opts: { -readonly [K in keyof ProtocolOptions]: ProtocolOptions[K] } = { ...DEFAULT_OPTIONS };
    const seen = new Map<string, SourceSpan>();
    for (const o of headers.flatMap((h) => h.options)) {
      const key = this.optionKey(o);
      if (!key) continue;
      const prev = seen.get(key);
      if (prev) {
        this.error("E-duplicate", `option \`${o.key.text}\` is given twice; the first is at ${prev.line}:${prev.column}`, o.key.loc, "remove one");
        continue;
      }
      seen.set(key, o.key.loc);
      if (key === "f") {
        if (o.value.kind !== "number") {
          this.error("E-option", "f is a number of failures, not a duration", o.value.loc, "write `f = 2`");
          continue;
        }
        if (!Number.isSafeInteger(o.value.value) || o.value.value < F_MIN || o.value.value > F_MAX) {
          this.error("E-option", `f = ${o.value.text} is out of range ${F_MIN}..${F_MAX}`, o.value.loc, "f is how many concurrent failures are tolerated");
          continue;
        }
        opts.f = o.value.value;
      } else {
        if (o.value.kind !== "duration") {
          this.error("E-option", `${o.key.text} takes a period`, o.loc, `write \`${o.key.text} every ${o.value.text}ms\` (units: ms, s, min)`);
          continue;
        }
        const ms = o.value.value * UNIT_MS[o.value.unit];
        if (!Number.isSafeInteger(ms) || ms < INTERVAL_MIN_MS || ms > INTERVAL_MAX_MS) {
          this.error("E-option", `${o.key.text} period ${o.value.text}${o.value.unit} is out of range 1ms..24h`, o.value.loc, "periods are between 1ms and 24 hours");
          continue;
        }
        if (key === "checkpoint") opts.checkpointIntervalMs = ms;
        else opts.flushIntervalMs = ms;
      }
    }
    return opts;
  }

  optionKey(o: OptionNode): "f" | "checkpoint" | "flush" | null {
    const k = o.key.text.toLowerCase();
    if (k === "f" || k === "tolerate f") return "f";
    if (k === "checkpoint" || k === "flush") return k;
    const known = ["f", "tolerate f", "checkpoint", "flush"];
    const guess = suggest(o.key.text, known);
    this.error("E-option", `unknown option \`${o.key.text}\`; options are \`f = N\`, \`checkpoint every <period>\`, \`flush every <period>\``, o.key.loc,
      guess ? `did you mean \`${guess}\`?` : "write `protocol NAME ( f = 2, checkpoint every 5s, flush every 100ms )`");
    return null;
  }

  lower(ast: SpecAst): ProtocolIR | null {
    this.diagnostics.push(...checkStatementOrder(ast, this.file), ...checkDuplicateStatements(ast, this.file));
    if (!ast.statements.some((s) => s.kind !== "header")) {
      this.diagnostics.push({
        severity: "warning",
        code: "W-empty",
        message: "the spec has no statements: the protocol does nothing (no logging, no checkpoints)",
        file: this.file,
        loc: ast.loc,
        hint: "see the examples in specs/, e.g. fig4a-sby.egida",
      });
    }
    const headers = ast.statements.filter((s): s is HeaderStmt => s.kind === "header");
    const name = this.name(headers);
    const options = this.options(headers);
    const nonDeterministic: NonDetStatement[] = [];
    const outputCommit: OutputCommitStatement[] = [];
    const dependencyGenerating: DepGenStatement[] = [];
    let checkpoint: CheckpointStatement | null = null;
    let retrieveDeterminants: BlockRef | null = null;
    let orphanDetection: BlockRef | null = null;
    let onRollback: RollbackAction | null = null;
    const recoveryStmts: Statement[] = [];

    for (const s of ast.statements) {
      switch (s.kind) {
        case "header":
          break;
        case "non-det": {
          const event = this.event(s.event);
          const determinant = this.determinant(s.fields, s.fieldsLoc);
          const log = s.log ? this.log(s.log) : null;
          if (event && determinant && (log || !s.log)) nonDeterministic.push({ event, determinant, log, loc: s.loc });
          break;
        }
        case "output-commit": {
          const proto = this.block("output-commit-proto", s.proto);
          const events = s.events.map((e) => this.event(e));
          if (proto && events.every((e): e is EventKind => e !== null)) outputCommit.push({ proto, events, loc: s.loc });
          break;
        }
        case "dep-gen": {
          const event = this.event(s.event);
          const piggyback = s.piggyback ? this.piggyback(s.piggyback.values) : [];
          const log = s.log ? this.log(s.log) : null;
          if (event && piggyback && (log || !s.log)) dependencyGenerating.push({ event, piggyback, log, loc: s.loc });
          break;
        }
        case "checkpoint": {
          const proto = this.block("ckpt-proto", s.proto);
          const how = this.block("how-to-ckpt", s.how);
          const storage = this.block("storage", s.storage);
          const impl = this.block("ckpt-impl", s.impl);
          if (proto && how && storage && impl) checkpoint ??= { proto, how, storage, impl, loc: s.loc };
          break;
        }
        case "retrieve":
          recoveryStmts.push(s);
          retrieveDeterminants ??= this.block("recovery-get-det-proto", s.value);
          break;
        case "orphans":
          recoveryStmts.push(s);
          orphanDetection ??= this.block("orphan-detection-proto", s.value);
          break;
        case "rollback":
          recoveryStmts.push(s);
          onRollback ??= this.rollback(s.action);
          break;
      }
    }

    if (this.diagnostics.some((d) => d.severity === "error")) return null;
    const first = recoveryStmts[0];
    const last = recoveryStmts[recoveryStmts.length - 1];
    const recovery: RecoveryStatement = {
      retrieveDeterminants,
      orphanDetection,
      onRollback,
      ...(first && last ? { loc: { ...first.loc, endOffset: last.loc.endOffset } } : {}),
    };
    return {
      irVersion: 1,
      name,
      options,
      nonDeterministic,
      outputCommit,
      dependencyGenerating,
      checkpoint,
      recovery,
      source: { file: this.file },
    };
  }
}

export function lower(ast: SpecAst, file: string, registry: Registry): LowerResult {
  const l = new Lowerer(file, registry);
  const ir = l.lower(ast);
  return { ir, diagnostics: l.diagnostics };
}
