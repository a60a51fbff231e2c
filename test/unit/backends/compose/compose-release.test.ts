import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { COMPOSE_FILE } from "../../../../src/backends/compose/compose-project.js";
import {
  keepPreviousRelease,
  releaseServices,
  restoreRelease,
  swapReleases,
} from "../../../../src/backends/compose/compose-release.js";

// The release files `up` keeps and puts back: the compose file and the config folder.

let dir: string;

async function release(compose: string, nginx: string): Promise<void> {
  await mkdir(path.join(dir, "config"), { recursive: true });
  await writeFile(path.join(dir, COMPOSE_FILE), compose);
  await writeFile(path.join(dir, "config", "nginx.conf"), nginx);
}

afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("compose releases", () => {
  it("keeps nothing before the first release", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    expect(await keepPreviousRelease(dir)).toBeUndefined();
    expect(await swapReleases(dir)).toBeUndefined();
  });

  it("puts the kept release's compose file and config back", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    await release("services:\n  web: {}\n  db: {}\n", "old");
    const kept = await keepPreviousRelease(dir);
    expect(kept).toBe(path.join(dir, "releases", "previous"));
    await release("services:\n  web: {}\n", "new");
    await restoreRelease(dir, kept ?? "");
    expect(await readFile(path.join(dir, "config", "nginx.conf"), "utf8")).toBe("old");
    expect(await releaseServices(kept ?? "")).toEqual(["web", "db"]);
  });

  it("swaps the current and the kept release, so rolling back twice goes forward", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    await release("services:\n  web: {}\n", "one");
    await keepPreviousRelease(dir);
    await release("services:\n  web: {}\n", "two");
    await swapReleases(dir);
    expect(await readFile(path.join(dir, "config", "nginx.conf"), "utf8")).toBe("one");
    await swapReleases(dir);
    expect(await readFile(path.join(dir, "config", "nginx.conf"), "utf8")).toBe("two");
  });
});
