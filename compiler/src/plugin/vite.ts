/**
 * The egida build-step plugin for Vite: `import egida from "egida-gen/vite"`, then `plugins: [egida()]`.
 * Options: see EgidaPluginOptions (docs/plugin.md).
 */
import { unplugin } from "./unplugin.js";

export type { EgidaPluginOptions } from "./unplugin.js";
export default unplugin.vite;
