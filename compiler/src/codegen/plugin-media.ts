/**
 * The plugin storage media a spec names (egida.config.json values of the
 * `storage` variable): the generated protocol imports each one's runtime
 * store (the value's binding, a runtime-core MediumStore) and lists it in its
 * factory's `media`, and the generated package depends on the plugin.
 */
import type { ProtocolIR } from "../ir/types.js";
import type { Registry } from "../registry/types.js";
import type { PluginMedium } from "./types.js";

/** A binding the generated package cannot import. */
export interface BadBinding {
  readonly id: string;
  readonly origin: string;
  readonly module: string;
}

/** Every storage id the spec names, in spec order. */
function storageIds(ir: ProtocolIR): string[] {
  const ids: string[] = [];
  for (const st of ir.nonDeterministic) if (st.log) ids.push(st.log.where.id);
  for (const st of ir.dependencyGenerating) if (st.log) ids.push(st.log.where.id);
  if (ir.checkpoint) ids.push(ir.checkpoint.storage.id);
  if (ir.recovery.onRollback) ids.push(ir.recovery.onRollback.storage.id);
  return [...new Set(ids)];
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; undefined for a relative or absolute path. */
export function packageOfSpecifier(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("/") || /^[A-Za-z]:/.test(specifier) || specifier.startsWith("node:")) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? (parts.length >= 2 ? `${parts[0]}/${parts[1]}` : undefined) : parts[0];
}

export function pluginMedia(ir: ProtocolIR, registry: Registry): { media: PluginMedium[]; bad: BadBinding[] } {
  const media: PluginMedium[] = [];
  const bad: BadBinding[] = [];
  for (const id of storageIds(ir)) {
    const def = registry.get("storage", id);
    if (def === undefined || def.origin === "egida-gen") continue;
    // A plugin value always has a binding (schema/block.schema.json requires it); built-ins have none.
    const binding = def.binding;
    const dep = binding === undefined ? undefined : packageOfSpecifier(binding.module);
    if (binding === undefined || dep === undefined) {
      bad.push({ id, origin: def.origin, module: binding?.module ?? "(no binding)" });
      continue;
    }
    // The plugin's own version when the binding is in the plugin's package; otherwise whatever is installed.
    const range = def.package !== undefined && def.package.name === dep ? `^${def.package.version}` : "*";
    media.push({ id, module: binding.module, export: binding.export, dependency: { name: dep, range } });
  }
  return { media, bad };
}
