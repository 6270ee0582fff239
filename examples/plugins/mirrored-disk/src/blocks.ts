/**
 * The registry value (egida-gen's schema/block.schema.json). Plain data, so
 * loading the plugin at compile time loads no runtime code.
 */
export const blocks = [
  {
    variable: "storage",
    id: "mirrored-disk",
    spellings: ["mirrored disk"],
    module: "StableStorage",
    description: "A local log and checkpoint store written to two directories (two disks), fdatasync'd on both; recovery reads whichever copy holds more.",
    // Stable (survives the process; one disk may die too), not shared between hosts, no replication
    // (no f other processes needed); it keeps logs, asynchronous ones included, and checkpoints.
    storage: { stable: true, volatileAllowed: true, shared: false, needsF: false, logs: true, checkpoints: true },
    binding: { module: "egida-plugin-mirrored-disk/runtime", export: "mirroredDisk" },
  },
] as const;
