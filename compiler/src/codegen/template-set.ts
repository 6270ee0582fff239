/**
 * A directory of Handlebars templates (`*.hbs`, nested): the generated
 * package's (codegen/package.ts) and `egida-gen init`'s project
 * (init/scaffold.ts) are rendered alike.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import Handlebars from "handlebars";

export interface TemplateSet {
  /** Every template's path relative to the directory, `/`-separated, sorted. */
  list(): string[];
  /** Renders one template (compiled once) with `view`; strict: a missing field is an error. */
  render(tpl: string, view: object): string;
}

export function templateSet(dir: string): TemplateSet {
  // An isolated environment: nothing registered globally by anyone else applies here.
  const hbs = Handlebars.create();
  const compiled = new Map<string, HandlebarsTemplateDelegate>();
  return {
    list(): string[] {
      const out: string[] = [];
      const visit = (d: string): void => {
        for (const e of readdirSync(d).sort()) {
          const full = join(d, e);
          if (statSync(full).isDirectory()) visit(full);
          else if (e.endsWith(".hbs")) out.push(relative(dir, full).split(sep).join("/"));
        }
      };
      visit(dir);
      return out;
    },
    render(tpl: string, view: object): string {
      let t = compiled.get(tpl);
      if (!t) {
        t = hbs.compile(readFileSync(join(dir, tpl), "utf8"), { strict: true, knownHelpersOnly: true });
        compiled.set(tpl, t);
      }
      return t(view);
    },
  };
}
