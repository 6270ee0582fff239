/**
 * Best-effort source location of a JSON pointer in JSON text, so diagnostics
 * about config or IR files can show a caret. Walks the text with a tiny
 * tokenizer; falls back to 1:1 if the pointer cannot be followed.
 */
import type { SourceSpan } from "../ir/types.js";
import { positionAt } from "../parse/decode.js";

export function locateJsonPath(text: string, pointer: string): SourceSpan {
  const parts = pointer === "" ? [] : pointer.slice(1).split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const skipString = () => {
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
  };
  const skipValue = (): void => {
    ws();
    const c = text[i];
    if (c === '"') return skipString();
    if (c === "{" || c === "[") {
      let depth = 0;
      while (i < text.length) {
        const d = text[i];
        if (d === '"') {
          skipString();
          continue;
        }
        if (d === "{" || d === "[") depth++;
        if (d === "}" || d === "]") depth--;
        i++;
        if (depth === 0) return;
      }
      return;
    }
    while (i < text.length && !/[,\]}\s]/.test(text[i]!)) i++;
  };
  const fallback = positionAt(text, 0);
  try {
    for (const part of parts) {
      ws();
      if (text[i] === "{") {
        i++;
        let found = false;
        for (;;) {
          ws();
          if (text[i] !== '"') return fallback;
          const start = i;
          skipString();
          const key = JSON.parse(text.slice(start, i)) as string;
          ws();
          i++; // ':'
          ws();
          if (key === part) {
            found = true;
            break;
          }
          skipValue();
          ws();
          if (text[i] !== ",") return fallback;
          i++;
        }
        if (!found) return fallback;
      } else if (text[i] === "[") {
        i++;
        const n = Number(part);
        for (let k = 0; k < n; k++) {
          skipValue();
          ws();
          if (text[i] !== ",") return fallback;
          i++;
        }
        ws();
      } else return fallback;
    }
    ws();
    const start = i;
    skipValue();
    const loc = positionAt(text, start);
    return { ...loc, endOffset: Math.max(start, Math.min(i, text.length)) };
  } catch {
    return fallback;
  }
}
