import { chmod, mkdtemp, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { COMPOSE_V1 } from "../../../../src/backends/compose/compose-cli.js";
import {
  ComposeDetectionCache,
  composeCacheKey,
} from "../../../../src/backends/compose/compose-detection-cache.js";

async function binDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-bin-"));
  await writeFile(path.join(dir, "docker-compose"), "#!/bin/sh\n");
  await chmod(path.join(dir, "docker-compose"), 0o755);
  return dir;
}

describe("compose detection cache", () => {
  it("keys on the compose binaries found on PATH, so an upgrade is seen", async () => {
    const dir = await binDir();
    const env = { PATH: dir, HOME: dir };
    const before = await composeCacheKey(env);
    expect(before).toContain(path.join(dir, "docker-compose"));
    await utimes(path.join(dir, "docker-compose"), new Date(), new Date(Date.now() + 60_000));
    expect(await composeCacheKey(env)).not.toBe(before);
    expect(await composeCacheKey({ ...env, PRODLIKE_COMPOSE: "v1" })).not.toBe(
      await composeCacheKey(env),
    );
  });

  it("returns the stored flavour only for the same key", async () => {
    const cache = new ComposeDetectionCache(
      await mkdtemp(path.join(os.tmpdir(), "prodlike-state-")),
    );
    const flavour = { ...COMPOSE_V1, versionText: "1.29.2" };
    expect(await cache.get("k1")).toBeUndefined();
    await cache.set("k1", flavour);
    expect(await cache.get("k1")).toEqual(flavour);
    expect(await cache.get("k2")).toBeUndefined();
  });
});
