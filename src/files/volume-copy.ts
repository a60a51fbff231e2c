import { randomBytes } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import type { Backend } from "../backends/backend.js";
import { printable } from "../errors/printable.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { CommandRunner } from "../process/command-runner.js";

// A files folder that lives in an environment volume (OpenMage's media/) rather than in
// the checkout: `files pull` fills a copy in prodlike's state folder from production
// (rsync: only what changed moves, a cut connection changes nothing), then carries what
// changed there into the service's container through the backend (tar in, deletions
// after) — so it works wherever the backend runs. A token in the volume tells whether it
// still holds the last copy: a re-created volume gets everything again.

/** What one pull changed in the copy, from rsync's `--out-format=>%n` and `deleting` lines. */
export interface CopyChanges {
  changed: string[];
  deleted: string[];
}

export function parseChanges(output: string): CopyChanges {
  const changed: string[] = [];
  const deleted: string[] = [];
  for (const line of output.split("\n")) {
    if (line.startsWith(">") && !line.endsWith("/")) changed.push(line.slice(1));
    else if (line.startsWith("deleting ")) deleted.push(line.slice("deleting ".length));
  }
  return { changed, deleted };
}

const TOKEN_FILE = ".prodlike-files-token";

/** Where prodlike keeps an environment's copy (under its state folder), and the token of
 *  what the volume last received beside it. */
export function volumeCopyPaths(
  stateDirectory: string,
  envId: string,
): { dir: string; tokenFile: string } {
  const dir = path.join(stateDirectory, "files", envId);
  return { dir, tokenFile: `${dir}.token` };
}

/** Removes the copy and its token (destroy, gc). */
export async function removeVolumeCopy(stateDirectory: string, envId: string): Promise<void> {
  const { dir, tokenFile } = volumeCopyPaths(stateDirectory, envId);
  await rm(dir, { recursive: true, force: true });
  await rm(tokenFile, { force: true });
}

export interface VolumeTarget {
  backend: Pick<Backend, "execStream">;
  envId: string;
  service: string;
  /** The folder in the service's container (the volume's mount point). */
  path: string;
}

/**
 * Carries the copy's changes (or all of it, when the volume does not hold the last copy)
 * into the container; resolves how many files went in.
 */
export async function copyIntoVolume(
  target: VolumeTarget,
  copy: { dir: string; tokenFile: string; all: () => Promise<string[]> },
  changes: CopyChanges,
  runner: CommandRunner,
): Promise<number> {
  const known = await readFile(copy.tokenFile, "utf8").catch(() => "");
  const inVolume = await target.backend
    .execStream(target.envId, {
      service: target.service,
      command: ["cat", `${target.path}/${TOKEN_FILE}`],
    })
    .then((result) => (result.exitCode === 0 ? result.stdout.trim() : ""));
  const whole = known === "" || inVolume !== known;
  const files = whole ? await copy.all() : changes.changed;
  const token = randomBytes(8).toString("hex");

  const archive = new PassThrough();
  // tar reads the list NUL-separated from stdin, writes the archive to the container.
  // Nothing to send: the container's end reads an empty stream.
  if (files.length === 0) archive.end();
  const packing =
    files.length > 0
      ? runner.stream("tar", ["-C", copy.dir, "--null", "-T", "-", "-cf", "-"], {
          stdin: Readable.from([files.map((file) => `${file}\0`).join("")]),
          stdout: archive,
        })
      : undefined;
  // In the container: unpack, remove what production removed, then note the token.
  const script = [
    "set -e",
    'cd "$1"; token=$2; unpack=$3; shift 3',
    'if [ "$unpack" = 1 ]; then tar -xf - --no-same-owner; else cat >/dev/null; fi',
    'for f in "$@"; do rm -rf -- "./$f"; done',
    `printf %s "$token" > ${TOKEN_FILE}`,
  ].join("\n");
  const [unpacked, packed] = await Promise.all([
    target.backend.execStream(target.envId, {
      service: target.service,
      command: [
        "sh",
        "-c",
        script,
        "prodlike-files",
        target.path,
        token,
        files.length > 0 ? "1" : "0",
        ...(whole ? [] : changes.deleted),
      ],
      stdin: archive,
    }),
    packing,
  ]);
  if (packed && packed.exitCode !== 0) {
    throw new ProdlikeError("PULL_FAILED", "tar could not read the pulled copy", {
      hint: printable(packed.stderr.trim().split("\n").slice(-4).join("\n")),
    });
  }
  if (unpacked.exitCode !== 0) {
    throw new ProdlikeError(
      "PULL_FAILED",
      `Could not write the files into ${target.service}:${target.path}`,
      {
        hint: `${printable(unpacked.stderr.trim().split("\n").slice(-4).join("\n"))}\nThe copy in prodlike's state folder is complete; run files pull again.`,
      },
    );
  }
  await writeFile(copy.tokenFile, token, { mode: 0o600 });
  return files.length;
}
