/**
 * The egida build-step plugin for esbuild: `import egida from "egida-gen/esbuild"`, then `plugins: [egida()]`.
 * Options: see EgidaPluginOptions (docs/plugin.md).
 */
import { unplugin } from "./unplugin.js";

export type { EgidaPluginOptions } from "./unplugin.js";
export default unplugin.esbuild;
