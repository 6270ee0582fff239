/**
 * egida-gen as a library: the compilation pipeline (pipeline/: read → … →
 * select → generate), the front end (parse → lower), the checker and
 * classifier, and explain. The CLI (`egida-gen`) is a thin shell over these.
 */
export type * from "./ir/types.js";
export type * from "./registry/types.js";
export type * from "./diagnostics/types.js";
export { loadRegistry, loadSpecFile, parseSpec } from "./frontend.js";
export type { SpecResult } from "./frontend.js";
export { checkProtocol } from "./passes/check.js";
export { compile, frontEndPasses, passes, succeeded } from "./pipeline/index.js";
export type { Compilation, CompileOptions, GenerateRequest, Pass } from "./pipeline/index.js";
export { classify } from "./passes/classify.js";
export { explainProtocol, renderMermaid, renderText } from "./explain/index.js";
export { renderDiagnostic } from "./diagnostics/render.js";
