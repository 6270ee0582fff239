/**
 * The egida build-step plugin for Rollup: `import egida from "egida-gen/rollup"`, then `plugins: [egida()]`.
 * Options: see EgidaPluginOptions (docs/plugin.md).
 */
import { unplugin } from "./unplugin.js";

export type { EgidaPluginOptions } from "./unplugin.js";
export default unplugin.rollup;
