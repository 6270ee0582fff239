/**
 * egida-plugin-mirrored-disk: what egida-gen loads (egida.config.json). One
 * new value of the `storage` variable; its runtime store is `./runtime`.
 */
export { blocks } from "./blocks.js";
