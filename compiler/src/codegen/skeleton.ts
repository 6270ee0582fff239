/**
 * What both back ends share: the selected block files, the class fields with
 * their initialisers, the constructor, the kernel's Protocol methods, the
 * factory, imports and the file envelope. Each piece is a ts-morph structure
 * whose bodies are writer functions.
 */
import {
  IndentationText,
  NewLineKind,
  Node,
  Project,
  QuoteKind,
  StructureKind,
  type CodeBlockWriter,
  type ConstructorDeclarationStructure,
  type FunctionDeclaration,
  type MethodDeclarationStructure,
  type PropertyDeclarationStructure,
  type SourceFileStructure,
  type StatementStructures,
  type Statement,
  type WriterFunction,
} from "ts-morph";
import { CodegenError, comment, literal, name, specComment, str, type Code, type Name } from "./code.js";
import type { Closure } from "./deps.js";
import { DependencyCollector } from "./deps.js";
import { OPTIONAL_PROTOCOL_METHODS, PROTOCOL_METHODS, type BlockFile, type Library } from "./library.js";
import { builtinImportLine, generatedHeader, importLine, N, RUNTIME_SKELETON_TYPES } from "./names.js";
import { referencedNames, renderBody, renderNode } from "./render.js";
import type { EmitBlock, EmitInput } from "./types.js";

/** A selected block: its instance (parameters, span) and its analyzed file. */
export interface Selected {
  readonly inst: EmitBlock;
  readonly file: BlockFile;
}

export function selectFiles(lib: Library, input: EmitInput): Selected[] {
  const seen = new Set<string>();
  return input.blocks.map((inst) => {
    if (seen.has(inst.file)) {
      throw new CodegenError(`block ${inst.file} is selected twice; its fields would be shared (give the second use its own block file)`);
    }
    seen.add(inst.file);
    return { inst, file: lib.block(inst.file) };
  });
}

/** `// block log/det-sync.ts (id)` and `// spec L:C "..."` lines for one block instance. */
export function blockComments(inst: EmitBlock, source: string): Code[] {
  if (!inst) return [];
  const out: Code[] = [];
  if (inst.loc) {
    const lineText = source.split(/\r\n|\n|\r/)[inst.loc.line - 1] ?? "";
    out.push(specComment(inst.loc.line, inst.loc.column, lineText));
  }
  return out;
}

export function writeLines(writer: CodeBlockWriter, lines: readonly Code[]): void {
  for (const l of lines) writer.writeLine(l.text);
}

/** Write a rendered, dedented body line by line (the writer adds the indentation). */
export function writeBody(writer: CodeBlockWriter, text: string): void {
  if (text === "") return;
  for (const line of text.split("\n")) {
    if (line === "") writer.newLine();
    else writer.writeLine(line);
  }
}

interface InitOut {
  /** Fields with lifted initialisers. */
  readonly fields: PropertyDeclarationStructure[];
  /** Constructor writer: the init statements that could not be lifted, per block, in order. */
  readonly ctor: ConstructorDeclarationStructure;
}

/**
 * Fields (kernel first, then blocks in chain order) and their initialisation.
 * `s.x = e;` statements whose `e` needs neither `s` nor `host` become field
 * initialisers; the rest run in the constructor with `s` read as `this`, so
 * TypeScript's definite-assignment analysis sees them.
 */
export function fieldsAndConstructor(lib: Library, selected: readonly Selected[], source: string, deps: DependencyCollector): InitOut {
  const fieldTypes = new Map<string, string>();
  const byName = new Map<string, PropertyDeclarationStructure>();
  const fields: PropertyDeclarationStructure[] = [];
  const ctorParts: Array<{ comments: Code[]; text: string }> = [];
  const kernelState = lib.kernelState;
  if (!kernelState?.fields.some((f) => f.name === N.host.text)) {
    // The kernel does not declare the host: it is the emitter's own field (K's HostField).
    fields.push({ kind: StructureKind.Property, name: N.host.text, type: N.hostType.text, isReadonly: true });
    ctorParts.push({ comments: [], text: `this.${N.host.text} = ${N.host.text};` });
  }
  const owners: Array<{ file: BlockFile; inst: EmitBlock | undefined }> = [
    ...(kernelState ? [{ file: kernelState, inst: undefined }] : []),
    ...selected.map((x) => ({ file: x.file, inst: x.inst })),
  ];
  for (const { file, inst } of owners) {
    const iface = file.sourceFile.getInterface("Fields");
    if (iface) deps.add(iface, file.path);
    for (const f of file.fields) {
      if (f.name === N.host.text && inst !== undefined) throw new CodegenError(`${file.path}: field ${f.name} is reserved for the ProtocolHost`);
      const prior = fieldTypes.get(f.name);
      if (prior !== undefined) {
        if (prior !== f.type) throw new CodegenError(`field ${f.name} is declared as ${prior} and as ${f.type} (${file.path})`);
        continue;
      }
      fieldTypes.set(f.name, f.type);
      const structure: PropertyDeclarationStructure = { kind: StructureKind.Property, name: name(f.name).text, type: f.type, hasQuestionToken: f.optional };
      byName.set(f.name, structure);
      fields.push(structure);
    }
    const init = file.init;
    if (!init) continue;
    const hostParam = init.getParameters()[1] !== undefined;
    const rest: string[] = [];
    for (const st of init.getStatements()) {
      deps.add(st, file.path);
      const lifted = liftable(st, file, hostParam);
      const target = lifted ? byName.get(lifted.field) : undefined;
      if (lifted && target && target.initializer === undefined) {
        target.initializer = renderNode(lifted.value, init, { params: inst?.params ?? {} });
        continue;
      }
      rest.push(renderNode(st, init, { params: inst?.params ?? {}, stateToThis: true }));
    }
    if (rest.length === 0) continue;
    // The kernel's init runs unscoped (it only binds the host); blocks' inits each in a scope.
    ctorParts.push({ comments: inst ? [...blockTag(file, inst), ...blockComments(inst, source)] : [], text: rest.join("\n") });
  }
  const ctor: ConstructorDeclarationStructure = {
    kind: StructureKind.Constructor,
    parameters: [{ name: N.host.text, type: N.hostType.text }],
    statements: (writer) => {
      for (const part of ctorParts) {
        if (part.comments.length === 0) {
          writeBody(writer, part.text);
          continue;
        }
        writeLines(writer, part.comments);
        writer.write("{").newLine();
        writer.indent(() => writeBody(writer, part.text));
        writer.write("}").newLine();
      }
    },
  };
  return { fields, ctor };
}

export function blockTag(file: BlockFile, inst: EmitBlock): Code[] {
  return [comment(`block ${file.path} (${inst.id})`)];
}

function liftable(st: Statement, file: BlockFile, hostParam: boolean): { field: string; value: Node } | undefined {
  if (!Node.isExpressionStatement(st)) return undefined;
  const e = st.getExpression();
  if (!Node.isBinaryExpression(e) || e.getOperatorToken().getText() !== "=") return undefined;
  const left = e.getLeft();
  if (!Node.isPropertyAccessExpression(left) || left.getExpression().getText() !== "s") return undefined;
  const field = left.getName();
  if (!file.fields.some((f) => f.name === field)) return undefined;
  const refs = referencedNames(e.getRight());
  if (refs.has("s") || (hostParam && refs.has("host")) || refs.has("this")) return undefined;
  return { field, value: e.getRight() };
}

/** The Protocol methods, from the kernel's functions: parameters after `s`, `const s = this;`, the body. */
export function kernelMethods(lib: Library, deps: DependencyCollector): MethodDeclarationStructure[] {
  // Required methods first, then the optional ones the kernel exports (in SPI order).
  const names: string[] = [...PROTOCOL_METHODS, ...OPTIONAL_PROTOCOL_METHODS.filter((m) => lib.kernel.methods.has(m))];
  return names.map((m) => {
    const fn = lib.kernel.methods.get(m)!;
    deps.add(fn, lib.kernel.path);
    return functionAsMethod(fn, m, 1, {});
  });
}

/** A library function as a method: drop the first `skip` parameters (bound to `this`). */
export function functionAsMethod(fn: FunctionDeclaration, methodName: string, skip: number, params: Readonly<Record<string, string | number | boolean>>): MethodDeclarationStructure {
  const body = fn.getBody();
  if (!body || !Node.isBlock(body)) throw new CodegenError(`${methodName}: no body`);
  const text = renderBody(body, fn, { params });
  const usesS = fn.getParameters()[0]?.getName() === "s" && referencedNames(body).has("s");
  const retType = fn.getReturnTypeNode()?.getText();
  return {
    kind: StructureKind.Method,
    name: name(methodName).text,
    isAsync: fn.isAsync(),
    parameters: fn.getParameters().slice(skip).map((p) => ({ name: p.getNameNode().getText(), type: p.getTypeNode()?.getText(), hasQuestionToken: p.hasQuestionToken() })),
    ...(retType !== undefined ? { returnType: retType } : {}),
    statements: (writer) => {
      if (usesS) writer.writeLine("const s = this;");
      writeBody(writer, text);
    },
  };
}

/** `export const protocol: ProtocolFactory = { ... }`. */
export function factoryStatement(input: EmitInput, cls: Name): WriterFunction {
  const ir = input.checked.ir;
  return (w) => {
    w.writeLine("/** The factory egida-run loads: `egida-run --protocol <this package>`. */");
    w.write(`export const ${N.factoryExport.text}: ${N.factoryType.text} = `).inlineBlock(() => {
      w.writeLine(`protocolName: ${str(ir.name).text},`);
      w.writeLine(`defaultF: ${literal(ir.options.f).text},`);
      w.write(`create(${N.host.text}: ${N.hostType.text}): ${N.protocolInterface.text} `).inlineBlock(() => {
        w.writeLine(`return new ${cls.text}(${N.host.text});`);
      });
      w.write(",").newLine();
    });
    w.write(";").newLine();
  };
}

/** Imports, copied declarations, `type K = <state class>` when needed. */
export function preamble(closure: Closure, stateClass: Name, extraTypes: readonly string[] = []): WriterFunction {
  return (w) => {
    const types = new Set<string>([...RUNTIME_SKELETON_TYPES, ...closure.typeImports, ...extraTypes]);
    for (const v of closure.valueImports) types.delete(v);
    const typeNames = [...types].sort().map((t) => name(t));
    w.writeLine(importLine(typeNames, true).text);
    if (closure.valueImports.size > 0) w.writeLine(importLine([...closure.valueImports].sort().map((v) => name(v)), false).text);
    for (const [spec, b] of closure.builtinImports) {
      if (b.types.size > 0) w.writeLine(builtinImportLine(spec, [...b.types].sort(), true).text);
      if (b.values.size > 0) w.writeLine(builtinImportLine(spec, [...b.values].sort(), false).text);
    }
    if (closure.needsK) {
      w.blankLine();
      w.writeLine("/** The state block bodies see as `s`. */");
      w.writeLine(`type K = ${stateClass.text};`);
    }
    for (const d of closure.declarations) {
      w.blankLine();
      writeBody(w, d);
    }
  };
}

/** One project per process: only used to print structures. */
let printer: Project | undefined;
let counter = 0;

/** Build the file from structures in one call and return its text (LF, trailing newline). */
export function printFile(input: EmitInput, statements: Array<StatementStructures | WriterFunction>): string {
  printer ??= new Project({
    useInMemoryFileSystem: true,
    skipLoadingLibFiles: true,
    manipulationSettings: { indentationText: IndentationText.TwoSpaces, newLineKind: NewLineKind.LineFeed, quoteKind: QuoteKind.Double, useTrailingCommas: true },
  });
  const header = generatedHeader(input.specFile);
  const structure: SourceFileStructure = {
    kind: StructureKind.SourceFile,
    statements: [(w) => w.writeLine(header.text), ...statements],
  };
  const sf = printer.createSourceFile(`/out/${counter++}.ts`, structure);
  const text = sf.getFullText();
  printer.removeSourceFile(sf);
  return text.endsWith("\n") ? text : `${text}\n`;
}

export type { Closure };
