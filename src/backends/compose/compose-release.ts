import { cp, mkdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";
import { pathExists } from "../../env/generated-files.js";
import { COMPOSE_FILE } from "./compose-project.js";

// The release an `up` replaces: the compose file and config folder that ran before it,
// kept in .prodlike/NAME/releases/previous (a few kilobytes; the images they name stay on
// the engine, tagged by content). When the new release does not come up, this one is put
// back and started again on the same volumes: the old code on the newer data.

const PREVIOUS = path.join("releases", "previous");

/** Keeps what runs now as the previous release; undefined when nothing ran before. */
export async function keepPreviousRelease(dir: string): Promise<string | undefined> {
  const file = path.join(dir, COMPOSE_FILE);
  if (!(await pathExists(file))) return undefined;
  const target = path.join(dir, PREVIOUS);
  // Written beside, then renamed: a killed `up` leaves the last complete copy.
  const partial = `${target}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true, mode: 0o700 });
  await cp(file, path.join(partial, COMPOSE_FILE));
  const config = path.join(dir, "config");
  if (await pathExists(config)) {
    await cp(config, path.join(partial, "config"), { recursive: true });
  }
  await rm(target, { recursive: true, force: true });
  await rename(partial, target);
  return target;
}

/** Puts a kept release's files back in place of the current ones. */
export async function restoreRelease(dir: string, release: string): Promise<void> {
  const config = path.join(dir, "config");
  await rm(config, { recursive: true, force: true });
  if (await pathExists(path.join(release, "config"))) {
    await cp(path.join(release, "config"), config, { recursive: true });
  }
  await cp(path.join(release, COMPOSE_FILE), path.join(dir, COMPOSE_FILE));
}

/** Makes the kept release the current one and the current one the kept one, so a second
 *  rollback goes forward again; the kept release's folder, or undefined without one. */
export async function swapReleases(dir: string): Promise<string | undefined> {
  const previous = path.join(dir, PREVIOUS);
  if (!(await pathExists(path.join(previous, COMPOSE_FILE)))) return undefined;
  const target = path.join(dir, "releases", "rolling-back");
  await rm(target, { recursive: true, force: true });
  await rename(previous, target);
  await keepPreviousRelease(dir);
  await restoreRelease(dir, target);
  return target;
}

/** The services a kept release's compose file runs. */
export async function releaseServices(release: string): Promise<string[]> {
  const document = parse(await readFile(path.join(release, COMPOSE_FILE), "utf8")) as {
    services?: Record<string, unknown>;
  } | null;
  return Object.keys(document?.services ?? {});
}
