import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { readStateOrNothing } from "../../state/json-state.js";
import { ReleaseFiles } from "../release-files.js";
import { COMPOSE_FILE } from "./compose-project.js";

// A compose release is its compose file and config folder. When a new release does not
// come up, the kept one is put back and started again on the same volumes: the old code
// on the newer data.

export function composeReleases(dir: string, keep?: number): ReleaseFiles {
  return new ReleaseFiles(dir, [COMPOSE_FILE, "config"], keep);
}

/** The services a kept release's compose file runs. */
export async function releaseServices(release: string): Promise<string[]> {
  const document = parse(await readFile(path.join(release, COMPOSE_FILE), "utf8")) as {
    services?: Record<string, unknown>;
  } | null;
  return Object.keys(document?.services ?? {});
}

// Every image tag a release of the environment was built as, kept beside its releases:
// `destroy` removes them with the environment (the kept release's, and those of a
// release that was rolled back, which no container runs any more).
const IMAGES_FILE = path.join("releases", "images.json");

/** Adds a release's built image tags to the environment's list. */
export async function recordReleaseImages(dir: string, tags: readonly string[]): Promise<void> {
  if (tags.length === 0) return;
  const known = await releaseImages(dir);
  const all = [...new Set([...known, ...tags])].sort();
  if (all.length === known.length) return;
  await mkdir(path.join(dir, "releases"), { recursive: true, mode: 0o700 });
  await writeFile(path.join(dir, IMAGES_FILE), `${JSON.stringify(all, null, 2)}\n`, {
    mode: 0o600,
  });
}

/** The image tags every release of the environment was built as (none when unknown or
 *  damaged: destroy then removes only the images its containers use). */
export async function releaseImages(dir: string): Promise<string[]> {
  return (await readStateOrNothing(path.join(dir, IMAGES_FILE), z.array(z.string()))) ?? [];
}
