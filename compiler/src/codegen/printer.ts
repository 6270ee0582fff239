/**
 * Printing the generated file from declaration structures: the subset of
 * ts-morph's structure printers the back ends use (classes with properties,
 * a constructor and methods; interfaces with method signatures; free-form
 * statements), with the same layout rules, on code-block-writer (the writer
 * ts-morph prints with). Loading ts-morph and TypeScript to print one file
 * would cost most of a second; this costs nothing, and the golden test
 * (codegen-golden.test.ts) holds the output byte for byte.
 */
import CodeBlockWriter from "code-block-writer";

export type { CodeBlockWriter };
export type WriterFunction = (writer: CodeBlockWriter) => void;
type TextOrWriter = string | WriterFunction;

export interface ParameterStructure {
  readonly name: string;
  readonly type?: string | undefined;
  readonly hasQuestionToken?: boolean;
}

export interface PropertyStructure {
  readonly kind: "property";
  readonly name: string;
  readonly type?: TextOrWriter;
  readonly isReadonly?: boolean;
  readonly hasQuestionToken?: boolean;
  initializer?: TextOrWriter;
  readonly leadingTrivia?: WriterFunction;
}

export interface ConstructorStructure {
  readonly kind: "constructor";
  readonly parameters: readonly ParameterStructure[];
  readonly statements: WriterFunction;
}

export interface MethodStructure {
  readonly kind: "method";
  readonly name: string;
  readonly isAsync?: boolean;
  readonly parameters: readonly ParameterStructure[];
  readonly returnType?: string;
  readonly statements: WriterFunction;
  readonly leadingTrivia?: WriterFunction;
}

export interface ClassStructure {
  readonly kind: "class";
  readonly name: string;
  readonly isExported?: boolean;
  readonly implements?: readonly string[];
  readonly leadingTrivia?: WriterFunction;
  readonly properties?: readonly PropertyStructure[];
  readonly ctors?: readonly ConstructorStructure[];
  readonly methods?: readonly MethodStructure[];
}

export interface MethodSignatureStructure {
  readonly kind: "method-signature";
  readonly name: string;
  readonly parameters: readonly ParameterStructure[];
  readonly returnType?: string;
}

export interface InterfaceStructure {
  readonly kind: "interface";
  readonly name: string;
  readonly leadingTrivia?: WriterFunction;
  readonly methods: readonly MethodSignatureStructure[];
}

export type StatementStructure = ClassStructure | InterfaceStructure | WriterFunction;

/** ts-morph's manipulation settings for generated code: two spaces, LF, double quotes. */
function newWriter(): CodeBlockWriter {
  return new CodeBlockWriter({ newLine: "\n", indentNumberOfSpaces: 2, useTabs: false, useSingleQuote: false });
}

/** The file's text (ts-morph SourceFileStructurePrinter). */
export function printStatements(statements: readonly StatementStructure[]): string {
  const w = newWriter();
  for (const st of statements) {
    if (lastNonWhitespaceIsCloseBrace(w)) w.blankLineIfLastNot();
    else if (!w.isAtStartOfFirstLineOfBlock()) w.newLineIfLastNot();
    if (typeof st === "function") {
      st(w);
      continue;
    }
    if (!w.isAtStartOfFirstLineOfBlock()) w.blankLineIfLastNot();
    withTrivia(w, st.leadingTrivia, () => (st.kind === "class" ? printClass(w, st) : printInterface(w, st)));
  }
  w.conditionalNewLine(!w.isAtStartOfFirstLineOfBlock() && !w.isLastNewLine());
  return w.toString();
}

function lastNonWhitespaceIsCloseBrace(w: CodeBlockWriter): boolean {
  return (
    w.iterateLastCharCodes((code) => {
      if (code === 0x7d) return true;
      if (/\s/.test(String.fromCharCode(code))) return undefined;
      return false;
    }) ?? false
  );
}

/** NodePrinter.printText: leading trivia, then the node. */
function withTrivia(w: CodeBlockWriter, trivia: WriterFunction | undefined, print: () => void): void {
  if (trivia) {
    trivia(w);
    if (w.isInComment()) w.closeComment();
  }
  w.closeComment();
  print();
}

/** Printer.getText: a text or writer function's text, printed on a fresh writer. */
function textOf(t: TextOrWriter): string {
  if (typeof t === "string") return t;
  const w = newWriter();
  t(w);
  return w.toString();
}

const isBlank = (t: string) => t.trim() === "";

function printParameters(w: CodeBlockWriter, params: readonly ParameterStructure[]): void {
  w.write("(");
  if (params.length > 0) {
    w.hangingIndent(() => {
      params.forEach((p, i) => {
        if (i > 0) w.write(", ");
        w.write(p.name);
        w.conditionalWrite(p.hasQuestionToken === true, "?");
        // ts-morph writes `any` for an optional parameter without a type.
        const type = p.type ?? (p.hasQuestionToken === true ? "any" : undefined);
        if (type !== undefined && !isBlank(type)) w.hangingIndent(() => w.write(`: ${type}`));
      });
    });
  }
  w.write(")");
}

function printReturnType(w: CodeBlockWriter, returnType: string | undefined): void {
  if (returnType !== undefined && !isBlank(returnType)) w.hangingIndent(() => w.write(`: ${returnType}`));
}

function printClass(w: CodeBlockWriter, c: ClassStructure): void {
  if (c.isExported === true) w.write("export ");
  w.write("class");
  if (!isBlank(c.name)) w.space().write(c.name);
  w.space();
  w.hangingIndent(() => {
    const impl = (c.implements ?? []).join(", ");
    if (!isBlank(impl)) w.write(`implements ${impl} `);
  });
  w.inlineBlock(() => {
    (c.properties ?? []).forEach((p, i) => {
      w.conditionalNewLine(i > 0);
      withTrivia(w, p.leadingTrivia, () => printProperty(w, p));
    });
    for (const ctor of c.ctors ?? []) {
      memberSeparator(w);
      w.write("constructor");
      printParameters(w, ctor.parameters);
      w.space().inlineBlock(() => ctor.statements(w));
    }
    const methods = c.methods ?? [];
    if (methods.length > 0) {
      memberSeparator(w);
      methods.forEach((m, i) => {
        if (i > 0) w.blankLine();
        withTrivia(w, m.leadingTrivia, () => printMethod(w, m));
      });
    }
  });
}

function memberSeparator(w: CodeBlockWriter): void {
  if (!w.isAtStartOfFirstLineOfBlock()) w.blankLine();
}

function printProperty(w: CodeBlockWriter, p: PropertyStructure): void {
  if (p.isReadonly === true) w.write("readonly ");
  w.write(p.name);
  w.conditionalWrite(p.hasQuestionToken === true, "?");
  if (p.type !== undefined) {
    const type = textOf(p.type);
    if (!isBlank(type)) w.hangingIndent(() => w.write(`: ${type}`));
  }
  if (p.initializer !== undefined) {
    const init = textOf(p.initializer);
    if (!isBlank(init)) {
      w.hangingIndent(() => {
        w.spaceIfLastNot();
        w.write(`= ${init}`);
      });
    }
  }
  w.write(";");
}

function printMethod(w: CodeBlockWriter, m: MethodStructure): void {
  if (m.isAsync === true) w.write("async ");
  w.write(m.name);
  printParameters(w, m.parameters);
  printReturnType(w, m.returnType);
  w.spaceIfLastNot().inlineBlock(() => m.statements(w));
}

function printInterface(w: CodeBlockWriter, i: InterfaceStructure): void {
  w.write(`interface ${i.name}`);
  w.space();
  w.inlineBlock(() => {
    if (i.methods.length > 0 && !w.isAtStartOfFirstLineOfBlock()) w.newLine();
    i.methods.forEach((m, k) => {
      w.conditionalNewLine(k > 0);
      w.closeComment();
      w.write(m.name);
      printParameters(w, m.parameters);
      printReturnType(w, m.returnType);
      w.write(";");
    });
  });
}
