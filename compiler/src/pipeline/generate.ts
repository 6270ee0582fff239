/**
 * generate: emitter input from the selection, then the package files or the
 * protocol module's source. Only when asked (`compile`, the bundler plugin,
 * regen), and only on a spec without errors. A refusal `check` only warned
 * about (a plugin value: W-plugin-not-generated) becomes an error here. A
 * plugin storage medium is generated: the protocol imports its runtime store
 * (codegen/plugin-media.ts). The emitters load on first use, so check and
 * explain never load them.
 */
import { refusalDiagnostic } from "../passes/check-generate.js";
import type { EmitBlock, EmitInput } from "../codegen/types.js";
import { pluginMedia } from "../codegen/plugin-media.js";
import { hasErrors, type Pass } from "./compilation.js";

export const generatePass: Pass = {
  name: "generate",
  applies: (c) => c.options.generate !== undefined && c.ir !== null && c.source !== null && !hasErrors(c) && (c.selection !== null || c.refusal !== null),
  async run(c) {
    if (c.refusal !== null) {
      c.diagnostics.push(refusalDiagnostic(c.refusal, c.file));
      return;
    }
    const request = c.options.generate!;
    const blocks: EmitBlock[] = c.selection!.map((b) => {
      const base = { file: b.file, id: b.id, module: b.module, params: b.params };
      return b.loc === undefined ? base : { ...base, loc: b.loc };
    });
    const { media, bad } = c.registry ? pluginMedia(c.ir!, c.registry) : { media: [], bad: [] };
    for (const b of bad) {
      c.diagnostics.push({
        severity: "error",
        code: "E-plugin-binding",
        message: `plugin \`${b.origin}\`: storage \`${b.id}\` binds to \`${b.module}\`, which a generated package cannot import`,
        file: c.file,
        hint: "bind a plugin medium to a package specifier, e.g. { \"module\": \"my-plugin/runtime\", \"export\": \"store\" }",
      });
    }
    if (bad.length > 0) return;
    const input: EmitInput = { checked: { ir: c.ir!, classification: c.classification! }, blocks, source: c.source!, specFile: c.specFile, ...(media.length > 0 ? { media } : {}) };
    const [{ renderPackage, emitSource }, { blockLibrary }] = await Promise.all([import("../codegen/package.js"), import("../codegen/pipeline.js")]);
    // The spec's plugin blocks, analyzed by the select pass, join the library for this compilation.
    let lib = blockLibrary();
    if (c.plugins !== null) lib = (await import("../codegen/plugin-analyze.js")).withPluginBlocks(lib, c.plugins);
    if (request.kind === "module") {
      c.output = { input, source: emitSource(lib, input, request.emit) };
    } else {
      const options = typeof request.options === "function" ? request.options(c.ir!) : request.options;
      c.output = { input, files: renderPackage(lib, input, options) };
    }
  },
};
