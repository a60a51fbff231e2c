import { createHash, type Hash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { CommandRunner } from "../../process/command-runner.js";
import { Label } from "../../topology/labels.js";
import type { ClusterPlacement, Topology } from "../../topology/model.js";
import { CODE_IMAGE_PATH } from "../../topology/render-kubernetes.js";
import type { DockerEngine } from "../docker/docker-engine.js";
import { codeIgnoreRules, listCodeTree } from "./sync/code-tree.js";
import { packTar } from "./sync/tar-pack.js";

const CODE_REPOSITORY_PREFIX = "prodlike/code-";

// The code of an environment on a remote cluster, as an image: the checkout's tree (what
// .gitignore and sync.exclude leave), or a git ref's (`up --bake [--ref REF]`), added
// onto the code service's own image at CODE_IMAGE_PATH. Tagged by its content, so an
// unchanged tree is neither built nor pushed again.

export interface CodeImage {
  tag: string;
  /** The image it is built on: the code service's own, pushed anyway. */
  base: string;
  /** A private folder with the Dockerfile and the tree's archive, removed once built. */
  context: string;
}

/** Packs the tree into a private folder and names the image after its content. */
export async function prepareCodeImage(
  topology: Topology,
  placement: ClusterPlacement,
  runner: CommandRunner,
): Promise<CodeImage> {
  const member = topology.services.find((service) =>
    service.mounts.some((mount) => mount.type === "code"),
  );
  if (!member) throw new ProdlikeError("INTERNAL", "No service mounts the code");
  const base = member.image.kind === "build" ? member.image.tag : member.image.ref;
  const context = await mkdtemp(path.join(os.tmpdir(), "prodlike-code-"));
  const archive = path.join(context, "code.tar");
  const hash = createHash("sha256").update(base);
  const owner = { uid: member.user?.uid ?? 0, gid: member.user?.gid ?? member.user?.uid ?? 0 };
  try {
    if (placement.code.mode === "bake") {
      await gitArchive(runner, topology.codeRoot, placement.code.ref, archive);
      hash.update(await readFile(archive));
    } else {
      const rules = await codeIgnoreRules(topology.codeRoot, placement.code.exclude);
      // What up writes into the checkout (its files, its folders while empty) comes with
      // the generated layer: listed here too, a second up would find the tree changed by
      // the first (new files, new times).
      const made = new Set([
        ...topology.codeFolders.map((folder) => `${folder}/`),
        ...topology.codeFiles.map((codeFile) => codeFile.path),
      ]);
      const files = (await listCodeTree(topology.codeRoot, rules)).filter(
        (entry) => !made.has(entry),
      );
      const out = createWriteStream(archive, { mode: 0o600 });
      await packTar(topology.codeRoot, files, owner, async (chunk) => {
        hash.update(chunk);
        if (!out.write(chunk)) await once(out, "drain");
      });
      out.end();
      await once(out, "close");
    }
    await packGeneratedFiles(topology, context, owner, hash);
    await writeFile(
      path.join(context, "Dockerfile"),
      `FROM ${base}\nADD code.tar ${CODE_IMAGE_PATH}/\nADD generated.tar ${CODE_IMAGE_PATH}/\n`,
    );
  } catch (error) {
    await rm(context, { recursive: true, force: true });
    throw error;
  }
  const repository = `${CODE_REPOSITORY_PREFIX}${topology.identity.project}`.toLowerCase();
  return { tag: `${repository}:${hash.digest("hex").slice(0, 16)}`, base, context };
}

/** A code image's tag: the environment's code, never shared with another, so it goes
 *  with the environment even when destroy keeps the preset images. */
export function isCodeImage(tag: string): boolean {
  return tag.startsWith(CODE_REPOSITORY_PREFIX);
}

/** Builds the image unless the engine has it; the packed tree is removed either way. */
export async function buildCodeImage(
  engine: DockerEngine,
  image: CodeImage,
  preset: string,
): Promise<"built" | "cached"> {
  try {
    if (await engine.imageExists(image.tag)) return "cached";
    await engine.buildImage({
      context: image.context,
      tag: image.tag,
      labels: {
        [Label.managed]: "true",
        [Label.image]: image.tag.split(":")[0] ?? image.tag,
        [Label.preset]: preset,
      },
    });
    return "built";
  } finally {
    await rm(image.context, { recursive: true, force: true });
  }
}

// The files prodlike generates into the checkout (Drupal's settings.prodlike.php: the
// database this environment's pods reach) are per environment, so .gitignore leaves them
// out of the tree and a git ref never has them: they go into a layer of their own, as
// writeCodeFile would leave them in the checkout (a file of the user's stays theirs).
// Tagged by their content, not their tar (whose times change with every up).
async function packGeneratedFiles(
  topology: Topology,
  context: string,
  owner: { uid: number; gid: number },
  hash: Hash,
): Promise<void> {
  const staging = path.join(context, "generated");
  const entries: string[] = [];
  for (const folder of topology.codeFolders) {
    await mkdir(path.join(staging, folder), { recursive: true });
    entries.push(`${folder}/`);
    hash.update(`folder\0${folder}\0`);
  }
  for (const codeFile of topology.codeFiles) {
    const existing = await readFile(path.join(topology.codeRoot, codeFile.path), "utf8").catch(
      () => undefined,
    );
    const content =
      existing !== undefined && (codeFile.createOnly || !existing.includes(codeFile.marker))
        ? existing
        : codeFile.content;
    await mkdir(path.dirname(path.join(staging, codeFile.path)), { recursive: true });
    await writeFile(path.join(staging, codeFile.path), content, { mode: 0o644 });
    entries.push(codeFile.path);
    hash.update(`file\0${codeFile.path}\0${content}\0`);
  }
  const out = createWriteStream(path.join(context, "generated.tar"), { mode: 0o600 });
  await packTar(staging, entries, owner, async (chunk) => {
    if (!out.write(chunk)) await once(out, "drain");
  });
  out.end();
  await once(out, "close");
}

/** What `up --bake` (HEAD) leaves out of the code: files of the checkout changed, staged,
 *  deleted or new (not ignored) since the last commit, relative to the code root; not the
 *  files up generates itself. Empty when git cannot tell (gitArchive says why). */
export async function uncommittedFiles(
  runner: CommandRunner,
  topology: Pick<Topology, "codeRoot" | "codeFiles">,
): Promise<string[]> {
  const listed = await Promise.all([
    runner.run("git", [
      "-C",
      topology.codeRoot,
      "ls-files",
      "-z",
      "-m",
      "-d",
      "-o",
      "--exclude-standard",
    ]),
    runner.run("git", [
      "-C",
      topology.codeRoot,
      "diff",
      "--cached",
      "--name-only",
      "--relative",
      "-z",
    ]),
  ]);
  const generated = new Set(topology.codeFiles.map((codeFile) => codeFile.path));
  const files = new Set<string>();
  for (const result of listed) {
    if (result.exitCode !== 0) continue;
    for (const file of result.stdout.split("\0")) if (file && !generated.has(file)) files.add(file);
  }
  return [...files].sort();
}

async function gitArchive(
  runner: CommandRunner,
  codeRoot: string,
  ref: string,
  archive: string,
): Promise<void> {
  const result = await runner.run("git", [
    "-C",
    codeRoot,
    "archive",
    "--format=tar",
    "-o",
    archive,
    ref,
  ]);
  if (result.notFound) {
    throw new ProdlikeError("TOOL_MISSING", "git is not installed", {
      hint: "`up --bake` builds the code of a git ref: install git (Debian: apt-get install git).",
    });
  }
  if (result.exitCode !== 0) {
    throw new ProdlikeError("USAGE", `Cannot bake ${ref}: git archive failed`, {
      hint: `${result.stderr.trim().split("\n")[0] ?? ""} (is ${codeRoot} a git checkout, and ${ref} a commit, branch or tag in it?)`,
    });
  }
}
