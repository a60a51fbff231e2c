import { chmod, mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import * as z from "zod/mini";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { readStateOrNothing } from "../state/json-state.js";
import type { CodeFile, Topology } from "../topology/model.js";
import type { Progress } from "../ui/steps.js";

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
  // The mode as asked, whatever the umask (077 would hide a config file from the
  // container user that reads it, such as Varnish's VCL compiler).
  if (mode !== undefined) await chmod(file, mode);
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

/** Rendered files of an environment live in its checkout, beside the code. */
export function environmentDir(codeRoot: string, envName: string): string {
  return path.join(codeRoot, ".prodlike", envName);
}

/** Makes the environment's folder, with a .gitignore that keeps `.prodlike/` out of git. */
export async function prepareEnvironmentDir(codeRoot: string, envName: string): Promise<string> {
  await writeIfChanged(path.join(codeRoot, ".prodlike", ".gitignore"), "*\n");
  const dir = environmentDir(codeRoot, envName);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Removes an environment's folder; `.prodlike/` itself goes with the last one (with the
 *  .gitignore prodlike put there), so a destroyed project's checkout is as it was. */
export async function removeEnvironmentDir(codeRoot: string, envName: string): Promise<boolean> {
  const dir = environmentDir(codeRoot, envName);
  const existed = await pathExists(dir);
  await rm(dir, { recursive: true, force: true });
  const top = path.join(codeRoot, ".prodlike");
  const left = await readdir(top).catch(() => undefined);
  if (left?.every((name) => name === ".gitignore")) {
    await rm(path.join(top, ".gitignore"), { force: true });
    await rmdir(top).catch(() => undefined);
  }
  return existed;
}

// Writes the topology's files into the code tree (Drupal's settings include) and makes the
// folders the framework writes into, warning where the user's own file stands in the way
// or does not load ours (checked once everything is written: settings.php may be new).
export async function writeCodeFiles(topology: Topology, progress: Progress): Promise<void> {
  for (const folder of topology.codeFolders) {
    await inCodeTree(folder, () =>
      mkdir(path.join(topology.codeRoot, folder), { recursive: true }),
    );
  }
  for (const codeFile of topology.codeFiles) {
    const outcome = await inCodeTree(codeFile.path, () =>
      writeCodeFile(topology.codeRoot, codeFile),
    );
    if (outcome === "kept-user-file" && !codeFile.createOnly) {
      progress.warn(
        `${codeFile.path} has no "${codeFile.marker}" marker: it is yours, so prodlike left it as it is.`,
      );
    }
  }
  for (const codeFile of topology.codeFiles) {
    if (codeFile.referencedBy) {
      const referencing = await readFile(
        path.join(topology.codeRoot, codeFile.referencedBy),
        "utf8",
      ).catch(() => "");
      if (!referencing.includes(path.basename(codeFile.path))) {
        progress.warn(
          `${codeFile.referencedBy} does not load ${path.basename(codeFile.path)}; add: include __DIR__ . '/${path.basename(codeFile.path)}';`,
        );
      }
    }
  }
}

// A folder the framework made read-only (Drupal hardens sites/default to 0555 after its
// install) is the user's to open again; prodlike does not change modes in their tree.
async function inCodeTree<T>(relative: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EPERM" && code !== "EROFS") throw error;
    const folder = path.dirname(relative);
    throw new ProdlikeError("CODE_NOT_WRITABLE", `Cannot write ${relative}: ${code}`, {
      hint: `Its folder is read-only (Drupal makes sites/default 0555 after install). Run \`chmod u+w ${folder}\`, then \`prodlike up\` again; Drupal will harden it again itself.`,
      location: { file: relative },
      cause: error,
    });
  }
}

const MOUNTPOINTS_FILE = "mountpoints.json";

/**
 * A file or volume mounted inside the code mount (OpenMage's app/etc/local.xml, media/)
 * needs a mountpoint in the code tree; Docker makes an empty one where none exists, which
 * would outlive the environment. Those it is about to make are noted here, for destroy.
 */
export async function recordMountpoints(topology: Topology): Promise<void> {
  const inside = `${topology.codeMountPath}/`;
  const targets = new Set(
    topology.services.flatMap((service) =>
      service.mounts
        .filter((mount) => mount.type !== "code" && mount.target.startsWith(inside))
        .map((mount) => mount.target.slice(inside.length)),
    ),
  );
  const file = path.join(
    environmentDir(topology.codeRoot, topology.identity.name),
    MOUNTPOINTS_FILE,
  );
  const known = await readMountpoints(file);
  for (const target of targets) {
    if (!(await pathExists(path.join(topology.codeRoot, target)))) known.add(target);
  }
  await writeIfChanged(file, `${JSON.stringify([...known].sort())}\n`, 0o600);
}

/** The mountpoints noted for an environment (read before its folder goes). */
export async function mountpointsOf(codeRoot: string, envName: string): Promise<string[]> {
  const file = path.join(environmentDir(codeRoot, envName), MOUNTPOINTS_FILE);
  return [...(await readMountpoints(file))];
}

/** Removes mountpoints Docker made, where they are still empty (no container holds them). */
export async function removeMountpoints(codeRoot: string, known: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const target of known) {
    const where = path.join(codeRoot, target);
    const info = await stat(where).catch(() => undefined);
    const empty = info?.isFile()
      ? info.size === 0
      : info?.isDirectory()
        ? (await readdir(where)).length === 0
        : false;
    if (!empty) continue;
    await rm(where, { recursive: false, force: true }).catch(() => rmdir(where));
    removed.push(target);
  }
  return removed;
}

// A damaged list names no mountpoint: none is removed (an empty file Docker made stays,
// never a file of the developer's).
async function readMountpoints(file: string): Promise<Set<string>> {
  return new Set((await readStateOrNothing(file, z.array(z.string()))) ?? []);
}

/** Whether a file or folder exists (any type). */
export async function pathExists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
