/**
 * What both back ends share: the selected block files, the class fields with
 * their initialisers, the constructor, the kernel's Protocol methods, the
 * factory, imports and the file envelope. Each piece is a declaration
 * structure (printer.ts) whose bodies are writer functions.
 */
import { CodegenError, comment, literal, name, specComment, str, type Code, type Name } from "./code.js";
import type { Closure } from "./deps.js";
import { DependencyCollector } from "./deps.js";
import { fileText, OPTIONAL_PROTOCOL_METHODS, PROTOCOL_METHODS, type BlockFile, type FnModel, type Library } from "./library.js";
import { builtinImportLine, generatedHeader, importLine, N, RUNTIME_LIB_IMPORT, RUNTIME_SKELETON_TYPES } from "./names.js";
import { printStatements, type CodeBlockWriter, type ConstructorStructure, type MethodStructure, type PropertyStructure, type StatementStructure, type WriterFunction } from "./printer.js";
import { renderBody, renderNode } from "./render.js";
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
  readonly fields: PropertyStructure[];
  /** Constructor writer: the init statements that could not be lifted, per block, in order. */
  readonly ctor: ConstructorStructure;
}

/**
 * Fields (kernel first, then blocks in chain order) and their initialisation.
 * `s.x = e;` statements whose `e` needs neither `s` nor `host` become field
 * initialisers; the rest run in the constructor with `s` read as `this`, so
 * TypeScript's definite-assignment analysis sees them.
 */
export function fieldsAndConstructor(lib: Library, selected: readonly Selected[], source: string, deps: DependencyCollector): InitOut {
  const fieldTypes = new Map<string, string>();
  const byName = new Map<string, PropertyStructure>();
  const fields: PropertyStructure[] = [];
  const ctorParts: Array<{ comments: Code[]; text: string }> = [];
  const kernelState = lib.kernelState;
  if (!kernelState?.fields.some((f) => f.name === N.host.text)) {
    // The kernel does not declare the host: it is the emitter's own field (K's HostField).
    fields.push({ kind: "property", name: N.host.text, type: N.hostType.text, isReadonly: true });
    ctorParts.push({ comments: [], text: `this.${N.host.text} = ${N.host.text};` });
  }
  const owners: Array<{ file: BlockFile; inst: EmitBlock | undefined }> = [
    ...(kernelState ? [{ file: kernelState, inst: undefined }] : []),
    ...selected.map((x) => ({ file: x.file, inst: x.inst })),
  ];
  for (const { file, inst } of owners) {
    if (file.fieldsRefs) deps.add(file.fieldsRefs, file.path);
    for (const f of file.fields) {
      if (f.name === N.host.text && inst !== undefined) throw new CodegenError(`${file.path}: field ${f.name} is reserved for the ProtocolHost`);
      const prior = fieldTypes.get(f.name);
      if (prior !== undefined) {
        if (prior !== f.type) throw new CodegenError(`field ${f.name} is declared as ${prior} and as ${f.type} (${file.path})`);
        continue;
      }
      fieldTypes.set(f.name, f.type);
      const structure: PropertyStructure = { kind: "property", name: name(f.name).text, type: f.type, hasQuestionToken: f.optional };
      byName.set(f.name, structure);
      fields.push(structure);
    }
    const init = file.init;
    if (!init) continue;
    const src = fileText(lib, file.path);
    const rest: string[] = [];
    for (const st of init.statements) {
      deps.add(st.refs, file.path);
      const lifted = st.lift;
      const target = lifted ? byName.get(lifted.field) : undefined;
      if (lifted && target && target.initializer === undefined) {
        target.initializer = renderNode(lifted.value, src, { params: inst?.params ?? {} });
        continue;
      }
      rest.push(renderNode(st.node, src, { params: inst?.params ?? {}, stateToThis: true }));
    }
    if (rest.length === 0) continue;
    // The kernel's init runs unscoped (it only binds the host); blocks' inits each in a scope.
    ctorParts.push({ comments: inst ? [...blockTag(file, inst), ...blockComments(inst, source)] : [], text: rest.join("\n") });
  }
  const ctor: ConstructorStructure = {
    kind: "constructor",
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

/** `// block <file> (<registry id>): <purpose>`: above each spliced block body, naming where it comes from and what it does (the manifest's purpose). */
export function blockTag(file: BlockFile, inst: EmitBlock): Code[] {
  return [comment(`block ${file.path} (${inst.id})${file.purpose !== undefined ? `: ${file.purpose}` : ""}`)];
}

/** The Protocol methods, from the kernel's functions: parameters after `s`, `const s = this;`, the body. */
export function kernelMethods(lib: Library, deps: DependencyCollector): MethodStructure[] {
  // Required methods first, then the optional ones the kernel exports (in SPI order).
  const names: string[] = [...PROTOCOL_METHODS, ...OPTIONAL_PROTOCOL_METHODS.filter((m) => lib.kernel.methods[m] !== undefined)];
  const src = fileText(lib, lib.kernel.path);
  return names.map((m) => {
    const fn = lib.kernel.methods[m]!;
    deps.add(fn.refs, lib.kernel.path);
    return functionAsMethod(fn, src, m, 1, {});
  });
}

/** A library function as a method: drop the first `skip` parameters (bound to `this`). `src`: its file's text. */
export function functionAsMethod(fn: FnModel, src: string, methodName: string, skip: number, params: Readonly<Record<string, string | number | boolean>>): MethodStructure {
  const text = renderBody(fn.body, src, { params });
  return {
    kind: "method",
    name: name(methodName).text,
    isAsync: fn.isAsync,
    parameters: fn.params.slice(skip).map((p) => ({ name: p.name, type: p.type, hasQuestionToken: p.optional })),
    ...(fn.returnType !== undefined ? { returnType: fn.returnType } : {}),
    statements: (writer) => {
      if (fn.usesS) writer.writeLine("const s = this;");
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
      const media = input.media ?? [];
      if (media.length > 0) {
        // The plugin stores runtime-core's storage providers open these media with (spi.ts MediumStore).
        w.write("media: ").inlineBlock(() => {
          media.forEach((m, i) => w.writeLine(`${str(m.id).text}: ${mediumImportName(i).text},`));
        });
        w.write(",").newLine();
      }
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
    // Specifiers in sorted order: "@egida/runtime-core/protocol-lib" < "@egida/runtime-core/spi" < "node:...".
    const lib = closure.libImports;
    if (lib.types.size > 0) w.writeLine(importLine([...lib.types].sort().map((t) => name(t)), true, RUNTIME_LIB_IMPORT).text);
    if (lib.values.size > 0) w.writeLine(importLine([...lib.values].sort().map((v) => name(v)), false, RUNTIME_LIB_IMPORT).text);
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

/** The local name of the i-th plugin medium's store (aliased: block code never declares `pluginMedium<i>`). */
function mediumImportName(i: number): Name {
  return name(`pluginMedium${i}`);
}

/** `import { store as pluginMedium0 } from "plugin/runtime";` per plugin medium. */
function mediaImports(input: EmitInput): WriterFunction {
  return (w) => {
    (input.media ?? []).forEach((m, i) => {
      w.writeLine(`import { ${name(m.export).text} as ${mediumImportName(i).text} } from ${str(m.module).text};`);
    });
  };
}

/** Build the file from structures in one call and return its text (LF, trailing newline). */
export function printFile(input: EmitInput, statements: readonly StatementStructure[]): string {
  const header = generatedHeader(input.specFile);
  const text = printStatements([(w) => w.writeLine(header.text), mediaImports(input), ...statements]);
  return text.endsWith("\n") ? text : `${text}\n`;
}

export type { Closure, WriterFunction };
