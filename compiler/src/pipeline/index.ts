/** The compilation pipeline: one compilation object, built by the declared list of passes. */
export { compile, succeeded } from "./compile.js";
export { createCompilation, type Compilation, type CompileOptions, type GenerateRequest, type Pass } from "./compilation.js";
export { frontEndPasses, passes } from "./passes.js";
