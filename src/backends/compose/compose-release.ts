import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";
import { ReleaseFiles } from "../release-files.js";
import { COMPOSE_FILE } from "./compose-project.js";

// A compose release is its compose file and config folder. When a new release does not
// come up, the kept one is put back and started again on the same volumes: the old code
// on the newer data.

export function composeReleases(dir: string): ReleaseFiles {
  return new ReleaseFiles(dir, [COMPOSE_FILE, "config"]);
}

/** The services a kept release's compose file runs. */
export async function releaseServices(release: string): Promise<string[]> {
  const document = parse(await readFile(path.join(release, COMPOSE_FILE), "utf8")) as {
    services?: Record<string, unknown>;
  } | null;
  return Object.keys(document?.services ?? {});
}
