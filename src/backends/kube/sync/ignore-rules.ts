// Which paths of the checkout never go into a cluster's pods: .gitignore's patterns (the
// root file's), `sync.exclude` from prodlike.yaml, and prodlike's and git's own folders.
// gitignore's rules: `#` comments, `!` negates, a trailing `/` matches folders only, a
// `/` at the start or in the middle anchors to the root, otherwise the name matches at
// any depth; `*`, `?`, `[…]` and `**`. The last rule that matches decides.

interface Rule {
  pattern: RegExp;
  negated: boolean;
  folderOnly: boolean;
}

/** Always left out: git's data and prodlike's generated files (secrets among them). */
export const ALWAYS_EXCLUDED = [".git/", ".prodlike/"];

export class IgnoreRules {
  private readonly rules: Rule[];

  constructor(patterns: readonly string[]) {
    this.rules = [...ALWAYS_EXCLUDED, ...patterns].flatMap((line) => {
      const rule = parseRule(line);
      return rule ? [rule] : [];
    });
  }

  /** Builds the rules from .gitignore's text and the extra patterns. */
  static from(gitignore: string | undefined, extra: readonly string[]): IgnoreRules {
    return new IgnoreRules([...(gitignore ?? "").split(/\r?\n/), ...extra]);
  }

  /** Whether a path (relative, `/`-separated) is left out, itself or by a folder above. */
  ignores(relative: string, isFolder: boolean): boolean {
    const parts = relative.split("/").filter(Boolean);
    for (let depth = 1; depth < parts.length; depth += 1) {
      if (this.matches(parts.slice(0, depth).join("/"), true)) return true;
    }
    return this.matches(parts.join("/"), isFolder);
  }

  /** Whether the path itself matches (its folders not looked at). */
  matches(relative: string, isFolder: boolean): boolean {
    let ignored = false;
    for (const rule of this.rules) {
      if (rule.folderOnly && !isFolder) continue;
      if (rule.pattern.test(relative)) ignored = !rule.negated;
    }
    return ignored;
  }
}

function parseRule(line: string): Rule | undefined {
  let text = line.replace(/(?<!\\)\s+$/, "");
  if (!text || text.startsWith("#")) return undefined;
  const negated = text.startsWith("!");
  if (negated) text = text.slice(1);
  if (text.startsWith("\\")) text = text.slice(1);
  const folderOnly = text.endsWith("/");
  if (folderOnly) text = text.slice(0, -1);
  if (!text) return undefined;
  const anchored = text.includes("/");
  if (text.startsWith("/")) text = text.slice(1);
  const body = globToRegex(text);
  return {
    pattern: new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`),
    negated,
    folderOnly,
  };
}

function globToRegex(glob: string): string {
  let out = "";
  for (let index = 0; index < glob.length; index += 1) {
    const char = glob[index] ?? "";
    if (char === "*") {
      if (glob[index + 1] === "*") {
        const slashAfter = glob[index + 2] === "/";
        out += slashAfter ? "(?:.*/)?" : ".*";
        index += slashAfter ? 2 : 1;
      } else out += "[^/]*";
    } else if (char === "?") out += "[^/]";
    else if (char === "[") {
      const end = glob.indexOf("]", index + 1);
      if (end < 0) out += "\\[";
      else {
        const inner = glob
          .slice(index + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\");
        out += `[${inner}]`;
        index = end;
      }
    } else if (char === "\\" && index + 1 < glob.length) {
      out += escapeRegex(glob[index + 1] ?? "");
      index += 1;
    } else out += escapeRegex(char);
  }
  return out;
}

function escapeRegex(text: string): string {
  return text.replace(/[.+^${}()|[\]\\/]/g, "\\$&");
}
