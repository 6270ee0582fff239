/**
 * Turning spec bytes into text, before any grammar runs: size limit, strict
 * UTF-8 (a spec with a bad byte is rejected with that byte's offset rather
 * than silently decoded to U+FFFD, which would hide file corruption).
 */
import type { Diagnostic } from "../diagnostics/types.js";
import type { SourceSpan } from "../ir/types.js";

/**
 * Largest accepted spec, in bytes (UTF-8). Real specs are a few hundred bytes;
 * the limit keeps a stray multi-megabyte file from costing seconds of parsing.
 */
export const MAX_SPEC_BYTES = 1024 * 1024;

export type DecodeResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly diagnostic: Diagnostic };

const START: SourceSpan = { line: 1, column: 1, offset: 0, endOffset: 0 };

/** The E-too-large diagnostic; `size` is e.g. "2000000 bytes" or "more than 1048576 bytes". */
export function tooLargeDiagnostic(size: string, file: string): Diagnostic {
  return {
    severity: "error",
    code: "E-too-large",
    message: `spec is ${size}; the limit is ${MAX_SPEC_BYTES} bytes (1 MiB)`,
    file,
    loc: START,
    hint: "an Egida spec is a handful of statements; is this the right file?",
  };
}

export function decodeSpec(input: string | Uint8Array, file: string): DecodeResult {
  const size = typeof input === "string" ? Buffer.byteLength(input, "utf8") : input.byteLength;
  if (size > MAX_SPEC_BYTES) return { ok: false, diagnostic: tooLargeDiagnostic(`${size} bytes`, file) };
  if (typeof input === "string") return { ok: true, text: input };
  const bad = firstInvalidUtf8(input);
  if (bad >= 0) {
    // Locate the bad byte by line and column in the valid prefix.
    const prefix = new TextDecoder("utf-8", { ignoreBOM: true }).decode(input.subarray(0, bad));
    const loc = positionAt(prefix, prefix.length);
    return {
      ok: false,
      diagnostic: {
        severity: "error",
        code: "E-encoding",
        message: `invalid UTF-8 at byte offset ${bad} (byte 0x${(input[bad] ?? 0).toString(16).padStart(2, "0")})`,
        file,
        loc: { ...loc, endOffset: loc.offset + 1 },
        hint: "save the spec as UTF-8 text",
      },
    };
  }
  // ignoreBOM keeps a leading BOM in the text so offsets match the file's characters;
  // the grammar treats U+FEFF as whitespace.
  return { ok: true, text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(input) };
}

/** Line/column (1-based) and offset of a character offset in `text`. */
export function positionAt(text: string, offset: number): SourceSpan {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1, offset: end, endOffset: end };
}

/** Index of the first byte that is not part of well-formed UTF-8 (RFC 3629), or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c === 0xe0) lo = 0xa0; // overlong
      if (c === 0xed) hi = 0x9f; // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c === 0xf0) lo = 0x90; // overlong
      if (c === 0xf4) hi = 0x8f; // > U+10FFFF
    } else return i;
    for (let k = 1; k < len; k++) {
      if (i + k >= n) return i;
      const d = b[i + k]!;
      if (k === 1 ? d < lo || d > hi : d < 0x80 || d > 0xbf) return i;
    }
    i += len;
  }
  return -1;
}
