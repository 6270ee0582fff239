/** decode: bytes → text, once (size limit, strict UTF-8: parse/decode.ts). Every later pass and every caret uses this text. */
import { decodeSpec } from "../parse/decode.js";
import type { Pass } from "./compilation.js";

export const decodePass: Pass = {
  name: "decode",
  applies: (c) => c.bytes !== null,
  run(c) {
    const decoded = decodeSpec(c.bytes!, c.file);
    if (decoded.ok) c.source = decoded.text;
    else c.diagnostics.push(decoded.diagnostic);
  },
};
