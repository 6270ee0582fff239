/**
 * The egida build-step plugin for webpack 5: `import egida from "egida-gen/webpack"`, then `plugins: [egida()]`.
 * Options: see EgidaPluginOptions (docs/plugin.md).
 */
import { unplugin } from "./unplugin.js";

export type { EgidaPluginOptions } from "./unplugin.js";
export default unplugin.webpack;
