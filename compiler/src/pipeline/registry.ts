/**
 * registry: built-in values plus the plugins of the nearest egida.config.json
 * (frontend.ts loadRegistry); skipped when the caller passed a registry.
 */
import { dirname, resolve } from "node:path";
import { loadRegistry } from "../frontend.js";
import type { Pass } from "./compilation.js";

export const registryPass: Pass = {
  name: "registry",
  applies: (c) => c.bytes !== null && c.registry === null,
  async run(c) {
    const { registry, diagnostics } = await loadRegistry(dirname(resolve(c.path)));
    c.registry = registry;
    // The registry's own problems (a broken egida.config.json) belong to the config file.
    c.diagnostics.push(...diagnostics);
  },
};
