/**
 * The egida build-step plugin for Rspack: `import egida from "egida-gen/rspack"`, then `plugins: [egida()]`.
 * Options: see EgidaPluginOptions (docs/plugin.md).
 */
import { unplugin } from "./unplugin.js";

export type { EgidaPluginOptions } from "./unplugin.js";
export default unplugin.rspack;
