/**
 * Protocol names. A name becomes an npm package name segment, a directory and
 * the stem of TypeScript identifiers in generated code, so it is restricted to
 * a shape that is safe in all three: strings from a spec never become code.
 */

export const NAME_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
export const NAME_MAX_LENGTH = 64;

/** Why `name` is not a valid protocol name, or null if it is. */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return "is empty";
  if (name.length > NAME_MAX_LENGTH) return `is ${name.length} characters long; the limit is ${NAME_MAX_LENGTH}`;
  if (!NAME_PATTERN.test(name))
    return "must be lowercase letters and digits separated by single hyphens, starting with a letter";
  return null;
}

/** The nearest valid name (used for a default from a file name, and in hints); "" if none. */
export function sanitizeName(raw: string): string {
  const s = raw
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "")
    .slice(0, NAME_MAX_LENGTH)
    .replace(/-+$/, "");
  return NAME_PATTERN.test(s) ? s : "";
}

/** The default name for a spec file: its basename without extension, sanitised. */
export function defaultNameForFile(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? "";
  return sanitizeName(base.replace(/\.[^.]*$/, ""));
}
