import { lstat, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { IgnoreRules } from "./ignore-rules.js";

// The checkout's files as the pods get them: every file and symlink not ignored, folders
// left out whole when ignored (node_modules/ is never walked).

/** The rules for a checkout: its root .gitignore and the extra patterns. */
export async function codeIgnoreRules(
  codeRoot: string,
  exclude: readonly string[],
): Promise<IgnoreRules> {
  const gitignore = await readFile(path.join(codeRoot, ".gitignore"), "utf8").catch(
    () => undefined,
  );
  return IgnoreRules.from(gitignore, exclude);
}

/** Relative paths (`/`-separated, sorted) of what is sent: files, symlinks, empty
 *  folders. */
export async function listCodeTree(codeRoot: string, rules: IgnoreRules): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(codeRoot, relative), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (relative && entries.length === 0) found.push(`${relative}/`);
    for (const entry of entries) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!rules.matches(child, true)) await walk(child);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && !rules.matches(child, false)) {
        found.push(child);
      }
    }
  };
  await walk("");
  return found;
}

/** Whether a path (relative) is a folder now; undefined when it is gone. */
export async function kindOf(
  codeRoot: string,
  relative: string,
): Promise<"file" | "folder" | "link" | undefined> {
  try {
    const stat = await lstat(path.join(codeRoot, relative));
    return stat.isDirectory() ? "folder" : stat.isSymbolicLink() ? "link" : "file";
  } catch {
    return undefined;
  }
}
