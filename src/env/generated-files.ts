import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CodeFile } from "../topology/model.js";

export type CodeFileOutcome = "written" | "unchanged" | "kept-user-file";

// Writes a file only when its content differs, so an unchanged `up` touches nothing
// (and no file watcher fires).
export async function writeIfChanged(
  file: string,
  content: string,
  mode?: number,
): Promise<boolean> {
  try {
    if ((await readFile(file, "utf8")) === content) return false;
  } catch {
    // Missing: written below.
  }
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, mode === undefined ? undefined : { mode });
  return true;
}

// Writes a generated file into the user's code tree. A file that exists without
// prodlike's marker is the user's and is never overwritten; `createOnly` files are
// written only when missing.
export async function writeCodeFile(
  codeRoot: string,
  codeFile: CodeFile,
): Promise<CodeFileOutcome> {
  const file = path.join(codeRoot, codeFile.path);
  let existing: string | undefined;
  try {
    existing = await readFile(file, "utf8");
  } catch {
    existing = undefined;
  }
  if (existing !== undefined) {
    if (codeFile.createOnly || !existing.includes(codeFile.marker)) {
      return existing === codeFile.content ? "unchanged" : "kept-user-file";
    }
  }
  return (await writeIfChanged(file, codeFile.content)) ? "written" : "unchanged";
}
