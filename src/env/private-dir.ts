import { lstat, mkdir } from "node:fs/promises";
import { ProdlikeError } from "../errors/prodlike-error.js";

// A folder prodlike keeps its own state in (locks, records) must be the user's own:
// made by them, not a link, writable by nobody else. A PRODLIKE_HOME under /tmp, or a
// folder another local user created first, could otherwise hand them the locks (or
// the files written beside them).

/** Makes `dir` (0700) when it is missing; refuses one that is not this user's own. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  const uid = process.getuid?.();
  const problem = info.isSymbolicLink()
    ? "is a symbolic link"
    : !info.isDirectory()
      ? "is not a folder"
      : uid !== undefined && info.uid !== uid
        ? `belongs to uid ${info.uid}, not to you (uid ${uid})`
        : (info.mode & 0o022) !== 0
          ? `is writable by others (mode ${(info.mode & 0o777).toString(8)})`
          : undefined;
  if (problem) {
    throw new ProdlikeError("IO_FAILED", `prodlike's state folder ${dir} ${problem}`, {
      hint: "Remove it (another user may have made it), or set PRODLIKE_HOME to a folder of your own.",
      data: { path: dir },
    });
  }
}
