import { readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { isMap, parseDocument } from "yaml";
import { ProdlikeError } from "../errors/prodlike-error.js";

// Changes a few top-level choices in prodlike.yaml the way a person would: the rest of the
// file, its comments and its order stay as they were. Written to a temporary file and
// renamed, so a crash leaves the old file or the new one, never half of one.

export interface RuntimeChoices {
  php?: string | undefined;
  /** `database.version` when `database` is a mapping, else `database` itself. */
  database?: string | undefined;
  /** Added to `phpExtensions` (kept sorted, without duplicates). */
  addExtensions?: readonly string[] | undefined;
}

export async function writeRuntimeChoices(
  file: string,
  choices: RuntimeChoices,
): Promise<{ changed: boolean }> {
  const before = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "";
    throw error;
  });
  const document = parseDocument(before);
  if (document.errors.length > 0 || (document.contents !== null && !isMap(document.contents))) {
    throw new ProdlikeError("CONFIG_INVALID", `${file} is not a YAML mapping; nothing written`, {
      location: { file },
      hint: "Fix the file (prodlike up names the line), then run parity --write again.",
    });
  }
  if (choices.php !== undefined) document.set("php", choices.php);
  if (choices.database !== undefined) {
    if (isMap(document.get("database"))) document.setIn(["database", "version"], choices.database);
    else document.set("database", choices.database);
  }
  if (choices.addExtensions && choices.addExtensions.length > 0) {
    const current = document.get("phpExtensions", false) as { toJSON(): unknown } | undefined;
    const existing = Array.isArray(current?.toJSON()) ? (current?.toJSON() as string[]) : [];
    const merged = [...new Set([...existing, ...choices.addExtensions])].sort();
    document.set("phpExtensions", document.createNode(merged, { flow: true }));
  }
  const after = document.toString({ lineWidth: 0 });
  if (after === before) return { changed: false };
  const mode = await stat(file).then(
    (stats) => stats.mode & 0o777,
    () => 0o644,
  );
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await writeFile(temporary, after, { mode });
    await rename(temporary, file);
  } finally {
    await rm(temporary, { force: true });
  }
  return { changed: true };
}
