/**
 * The modular back end (`--emit modular`), after the paper's Figure 5: one
 * class per paper module whose methods are the selected blocks' hook
 * functions (the same bodies the inline back end splices, parameters
 * substituted the same way), each behind an interface; the protocol class is
 * the EventHandler, holding the shared state `s` and calling every module
 * through its interface, in chain order. Slower (a call per block per event)
 * but readable module by module.
 */
import { CodegenError, name, type Code } from "./code.js";
import { DependencyCollector } from "./deps.js";
import { fileText, type HookSpec, type Library } from "./library.js";
import type { ClassStructure, InterfaceStructure, MethodSignatureStructure, MethodStructure, PropertyStructure, WriterFunction } from "./printer.js";
import { moduleClassName, moduleFieldName, moduleInterfaceName, N, protocolClassName } from "./names.js";
import { renderBody } from "./render.js";
import { blockComments, blockTag, factoryStatement, fieldsAndConstructor, kernelMethods, preamble, printFile, selectFiles, writeBody, writeLines, type Selected } from "./skeleton.js";
import type { EmitInput } from "./types.js";

/** One block's implementation of one hook, as a module method. */
interface ModuleMethod {
  readonly sel: Selected;
  /** Position of the block in the selection: the chain order. */
  readonly chainIndex: number;
  readonly hook: HookSpec;
  readonly method: string;
  readonly isAsync: boolean;
  readonly returnType: string;
  readonly isFilter: boolean;
  readonly params: readonly [string, string];
  readonly body: string;
}

interface Module {
  readonly paper: string;
  readonly iface: string;
  readonly cls: string;
  readonly field: string;
  readonly methods: ModuleMethod[];
}

export function emitModular(lib: Library, input: EmitInput): string {
  const cls = protocolClassName(input.checked.ir.name);
  const selected = selectFiles(lib, input);
  const modules = groupModules(lib, selected);
  const reserved = new Set([cls.text, N.factoryExport.text, ...modules.flatMap((m) => [m.iface, m.cls])]);
  const deps = new DependencyCollector(lib, reserved);
  const { fields, ctor } = fieldsAndConstructor(lib, selected, input.source, deps);
  for (const m of modules) {
    for (const mm of m.methods) {
      const fn = mm.sel.file.hooks[mm.hook.name]!;
      deps.add(fn.refs, mm.sel.file.path);
    }
  }
  for (const hook of lib.hooks) deps.add(lib.hookRefs[hook.name] ?? [], "hooks.ts");
  const methods = kernelMethods(lib, deps);
  for (const hook of lib.hooks) methods.push(dispatchMethod(hook, modules, input.source));
  const modsField: PropertyStructure = {
    kind: "property",
    name: N.modulesField.text,
    isReadonly: true,
    leadingTrivia: (w) => w.writeLine("/** The paper's modules, each behind its interface (Figure 5). */"),
    type: (w) => {
      w.inlineBlock(() => {
        for (const m of modules) w.writeLine(`readonly ${m.field}: ${m.iface};`);
      });
    },
    initializer: (w) => {
      w.inlineBlock(() => {
        for (const m of modules) w.writeLine(`${m.field}: new ${m.cls}(),`);
      });
    },
  };
  const handler: ClassStructure = {
    kind: "class",
    name: cls.text,
    isExported: true,
    implements: [N.protocolInterface.text],
    leadingTrivia: (w) => w.writeLine(`/** ${input.checked.ir.name}: the EventHandler (modular back end). It is the state \`s\` every module method receives. */`),
    properties: [modsField, ...fields],
    ctors: [ctor],
    methods,
  };
  const closure = deps.result();
  const moduleStatements = modules.flatMap((m) => [moduleInterface(m), moduleClass(m, input.source)]);
  // Module methods take `s: K`, so K is always declared.
  return printFile(input, [preamble({ ...closure, needsK: true }, cls), ...moduleStatements, handler, factoryStatement(input, cls)]);
}

function groupModules(lib: Library, selected: readonly Selected[]): Module[] {
  const byPaper = new Map<string, Module>();
  selected.forEach((sel, chainIndex) => {
    let m = byPaper.get(sel.inst.module);
    if (!m) {
      m = {
        paper: sel.inst.module,
        iface: moduleInterfaceName(sel.inst.module).text,
        cls: moduleClassName(sel.inst.module).text,
        field: moduleFieldName(sel.inst.module).text,
        methods: [],
      };
      byPaper.set(sel.inst.module, m);
    }
    for (const hook of lib.hooks) {
      const fn = sel.file.hooks[hook.name];
      if (!fn) continue;
      const taken = m.methods.filter((x) => x.hook.name === hook.name).length;
      const ps = fn.params;
      const returnType = fn.returnType ?? (hook.isAsync ? "Promise<void>" : "void");
      m.methods.push({
        sel,
        chainIndex,
        hook,
        method: name(taken === 0 ? hook.name : `${hook.name}${taken + 1}`).text,
        isAsync: fn.isAsync,
        returnType,
        isFilter: /^(Promise<)?boolean>?$/.test(returnType),
        params: [ps[0]!.name, ps[1]!.name],
        body: renderBody(fn.body, fileText(lib, sel.file.path), { params: sel.inst.params }),
      });
    }
  });
  return [...byPaper.values()];
}

function moduleInterface(m: Module): InterfaceStructure {
  const sigs: MethodSignatureStructure[] = m.methods.map((mm) => ({
    kind: "method-signature",
    name: mm.method,
    parameters: [
      { name: N.state.text, type: "K" },
      { name: N.event.text, type: mm.hook.evType },
    ],
    returnType: mm.returnType,
  }));
  return {
    kind: "interface",
    name: m.iface,
    leadingTrivia: (w) => w.writeLine(`/** The ${m.paper} module. */`),
    methods: sigs,
  };
}

function moduleClass(m: Module, source: string): ClassStructure {
  const methods: MethodStructure[] = m.methods.map((mm) => ({
    kind: "method",
    name: mm.method,
    isAsync: mm.isAsync,
    parameters: [
      { name: mm.params[0], type: "K" },
      { name: mm.params[1], type: mm.hook.evType },
    ],
    returnType: mm.returnType,
    leadingTrivia: comments([...blockTag(mm.sel.file, mm.sel.inst), ...blockComments(mm.sel.inst, source)]),
    statements: (w) => writeBody(w, mm.body),
  }));
  return { kind: "class", name: m.cls, implements: [m.iface], methods };
}

function comments(lines: readonly Code[]): WriterFunction {
  return (w) => writeLines(w, lines);
}

/** The EventHandler's hook method: call each module's implementation in chain order. */
function dispatchMethod(hook: HookSpec, modules: readonly Module[], source: string): MethodStructure {
  // Chain order is the selection order; module methods remember their block instance.
  const calls = modules
    .flatMap((m) => m.methods.filter((mm) => mm.hook.name === hook.name).map((mm) => ({ m, mm })))
    .sort((a, b) => a.mm.chainIndex - b.mm.chainIndex);
  const reject = hook.returnsBoolean ? "return false;" : "return;";
  return {
    kind: "method",
    name: name(hook.name).text,
    isAsync: hook.isAsync,
    parameters: [{ name: N.event.text, type: hook.evType }],
    returnType: hook.either ? "Promise<void>" : hook.returnType,
    statements: (w) => {
      for (const { m, mm } of calls) {
        writeLines(w, blockComments(mm.sel.inst, source));
        const call = `this.${N.modulesField.text}.${m.field}.${mm.method}(this, ${N.event.text})`;
        // Through the module interface an `async: "either"` method may return a promise: always awaited.
        const awaited = mm.isAsync || hook.either ? `await ${call}` : call;
        if (mm.isFilter && hook.isFilter) w.writeLine(`if (!(${awaited})) ${reject}`);
        else if (mm.isFilter) throw new CodegenError(`${mm.sel.file.path}: ${hook.name} returns a value but the hook is not a filter`);
        else w.writeLine(`${awaited};`);
      }
      if (hook.returnsBoolean) w.writeLine("return true;");
    },
  };
}
