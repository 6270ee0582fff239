/**
 * The inline back end (default): one class implementing the runtime's
 * Protocol SPI. Every hook is one method whose body is the selected blocks'
 * hook bodies, spliced in chain order, each in its own `{ }` scope under a
 * `// spec L:C "..."` comment; `const s = this;` makes their `s.` references
 * the class fields. Only selected code is emitted, parameters as literals.
 */
import { name } from "./code.js";
import { DependencyCollector } from "./deps.js";
import { fileText, type HookSpec, type Library } from "./library.js";
import { N, protocolClassName } from "./names.js";
import type { ClassStructure, MethodStructure } from "./printer.js";
import { liveAwait, renderBody } from "./render.js";
import { blockComments, blockTag, factoryStatement, fieldsAndConstructor, kernelMethods, preamble, printFile, selectFiles, writeBody, writeLines, type Selected } from "./skeleton.js";
import type { EmitInput } from "./types.js";

export function emitInline(lib: Library, input: EmitInput): string {
  const cls = protocolClassName(input.checked.ir.name);
  const deps = new DependencyCollector(lib, new Set([cls.text, N.factoryExport.text]));
  const selected = selectFiles(lib, input);
  const { fields, ctor } = fieldsAndConstructor(lib, selected, input.source, deps);
  const methods = kernelMethods(lib, deps);
  for (const hook of lib.hooks) methods.push(hookMethod(lib, hook, selected, input.source, deps));
  const classStructure: ClassStructure = {
    kind: "class",
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

function hookMethod(lib: Library, hook: HookSpec, selected: readonly Selected[], source: string, deps: DependencyCollector): MethodStructure {
  deps.add(lib.hookRefs[hook.name] ?? [], "hooks.ts");
  const chain = selected.flatMap((sel, i) => {
    const fn = sel.file.hooks[hook.name];
    return fn ? [{ sel, i, fn }] : [];
  });
  // An `async: "either"` chain is a plain function when, after folding, no block awaits and only
  // the last one returns (its promise, if any, is the chain's): no promise per call otherwise.
  const isAsync = !hook.either ? hook.isAsync : chain.some(({ sel, fn }, k) => (fn.isAsync ? liveAwait(fn.body, { params: sel.inst.params }) : k < chain.length - 1 && fn.hasReturn));
  const parts = chain.map(({ sel, i, fn }) => {
    deps.add(fn.bodyRefs, sel.file.path);
    const awaitLabel = hook.either && isAsync && !fn.isAsync ? name(`${hook.name}${i}`).text : undefined;
    const label = hook.isFilter ? name(`${hook.name}${i}`).text : awaitLabel;
    const reject = hook.returnsBoolean ? "return false;" : "return;";
    const opts = hook.isFilter ? { params: sel.inst.params, filterLabel: label!, reject } : awaitLabel !== undefined ? { params: sel.inst.params, awaitLabel } : { params: sel.inst.params };
    const text = renderBody(fn.body, fileText(lib, sel.file.path), opts);
    return { sel, text, label: label !== undefined && text.includes(`break ${label};`) ? label : undefined, usesS: fn.usesS };
  });
  return {
    kind: "method",
    name: name(hook.name).text,
    isAsync,
    parameters: [{ name: N.event.text, type: hook.evType }],
    returnType: hook.either && isAsync ? "Promise<void>" : hook.returnType,
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
