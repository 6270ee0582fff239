// The plugin's registry entry (egida-gen's BlockDef, schema/block.schema.json):
// the output-commit value `batched`, implemented by the block file `block`
// that egida-gen compile splices into the protocol.
/** @type {import("egida-gen").BlockDef[]} */
export const blocks = [
  {
    variable: "output-commit-proto",
    id: "batched",
    spellings: ["Batched"],
    module: "HowToOutputCommit",
    description: "outputs are released in groups: each waits up to batch.windowMs, then one flush of the event log commits the group",
    params: {
      "batch.windowMs": { type: "integer", default: 5, description: "how long the first output of a group waits for others before the group's flush" },
    },
    block: "./blocks/batched-commit.ts",
  },
];
