/**
 * The inline back end (default): one class implementing the runtime's
 * Protocol SPI. Every hook is one method whose body is the selected blocks'
 * hook bodies, spliced in chain order, each in its own `{ }` scope under a
 * `// spec L:C "..."` comment; `const s = this;` makes their `s.` references
 * the class fields. Only selected code is emitted, parameters as literals.
 */
import { Node, StructureKind, type ClassDeclarationStructure, type MethodDeclarationStructure } from "ts-morph";
import { CodegenError, name } from "./code.js";
import { DependencyCollector } from "./deps.js";
import type { HookSpec, Library } from "./library.js";
import { N, protocolClassName } from "./names.js";
import { referencedNames, renderBody } from "./render.js";
import { blockComments, blockTag, factoryStatement, fieldsAndConstructor, kernelMethods, preamble, printFile, selectFiles, writeBody, writeLines, type Selected } from "./skeleton.js";
import type { EmitInput } from "./types.js";

export function emitInline(lib: Library, input: EmitInput): string {
  const cls = protocolClassName(input.checked.ir.name);
  const deps = new DependencyCollector(lib, new Set([cls.text, N.factoryExport.text]));
  const selected = selectFiles(lib, input);
  const { fields, ctor } = fieldsAndConstructor(lib, selected, input.source, deps);
  const methods = kernelMethods(lib, deps);
  for (const hook of lib.hooks) methods.push(hookMethod(lib, hook, selected, input.source, deps));
  const classStructure: ClassDeclarationStructure = {
    kind: StructureKind.Class,
    name: cls.text,
    isExported: true,
    implements: [N.protocolInterface.text],
    leadingTrivia: (w) => w.writeLine(`/** ${input.checked.ir.name}: the selected blocks spliced into one class (inline back end). */`),
    properties: fields,
    ctors: [ctor],
    methods,
  };
  const closure = deps.result();
  return printFile(input, [preamble(closure, cls), classStructure, factoryStatement(input, cls)]);
}

function hookMethod(lib: Library, hook: HookSpec, selected: readonly Selected[], source: string, deps: DependencyCollector): MethodDeclarationStructure {
  const hooksIface = lib.files.get("hooks.ts")!.getInterfaceOrThrow("Hooks");
  deps.add(hooksIface.getMethodOrThrow(hook.name), "hooks.ts");
  const parts = selected.flatMap((sel, i) => {
    const fn = sel.file.hooks.get(hook.name);
    if (!fn) return [];
    const body = fn.getBody();
    if (!body || !Node.isBlock(body)) throw new CodegenError(`${sel.file.path}: ${hook.name} has no body`);
    deps.add(body, sel.file.path);
    const label = hook.isFilter ? name(`${hook.name}${i}`).text : undefined;
    const reject = hook.returnsBoolean ? "return false;" : "return;";
    const text = renderBody(body, fn, label !== undefined ? { params: sel.inst.params, filterLabel: label, reject } : { params: sel.inst.params });
    return [{ sel, text, label: label !== undefined && text.includes(`break ${label};`) ? label : undefined, usesS: fn.getParameters()[0]!.getName() === "s" && referencedNames(body).has("s") }];
  });
  return {
    kind: StructureKind.Method,
    name: name(hook.name).text,
    isAsync: hook.isAsync,
    parameters: [{ name: N.event.text, type: hook.evType }],
    returnType: hook.returnType,
    statements: (w) => {
      if (parts.some((p) => p.usesS)) w.writeLine(`const ${N.state.text} = this;`);
      for (const p of parts) {
        writeLines(w, [...blockTag(p.sel.file, p.sel.inst), ...blockComments(p.sel.inst, source)]);
        w.write(p.label !== undefined ? `${p.label}: {` : "{").newLine();
        w.indent(() => writeBody(w, p.text));
        w.write("}").newLine();
      }
      if (hook.returnsBoolean) w.writeLine("return true;");
    },
  };
}
