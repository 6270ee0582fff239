import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** The launcher's bin script (egida-run). */
export const EGIDA_RUN = fileURLToPath(new URL("../../../runtime-core/bin/egida-run.js", import.meta.url));
