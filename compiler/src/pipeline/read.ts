/** read: the spec's bytes, bounded (parse/read-spec.ts); skipped when the caller passed the text. */
import { readSpecFile } from "../parse/read-spec.js";
import type { Pass } from "./compilation.js";

export const readPass: Pass = {
  name: "read",
  applies: (c) => c.bytes === null,
  async run(c) {
    const read = await readSpecFile(c.path, c.file);
    if (read.ok) c.bytes = read.bytes;
    else c.diagnostics.push(read.diagnostic);
  },
};
