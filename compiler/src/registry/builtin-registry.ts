import { BUILTIN_BLOCKS } from "./builtin.js";
import { BlockRegistry, createRegistry } from "./registry.js";

/** A fresh registry holding only the built-in blocks (which never conflict: a test checks). */
export function builtinRegistry(): BlockRegistry {
  return createRegistry(BUILTIN_BLOCKS).registry;
}
