import { fileURLToPath } from "node:url";
import type { TransformId } from "../../src/config/vocabulary.js";
import { takeInventory } from "../../src/mirror/inventory.js";
import { type ManifestObject, readManifests } from "../../src/mirror/manifests.js";
import { applyTransforms } from "../../src/mirror/transforms.js";
import { FakeRunner } from "./fake-runner.js";

/** A production fixture under test/fixtures/manifests after the default local transforms. */
export async function mirroredFixture(
  file: string,
  images: Record<string, string>,
  codeContainers: string[],
): Promise<ManifestObject[]> {
  const path = fileURLToPath(new URL(`../fixtures/manifests/${file}`, import.meta.url));
  const documents = await readManifests(path, {
    runner: new FakeRunner(),
    readStdin: async () => "",
  });
  return applyTransforms(
    takeInventory(documents).documents.map((document) => document.object),
    {
      envName: "local",
      project: "shop",
      disabled: new Set<TransformId>(),
      resourceScale: 0.25,
      images,
      secrets: {},
      localSecret: (secret, key) => `local-${secret}-${key}`,
      storageClass: undefined,
      codeMount: { path: "/var/www/html", containers: codeContainers },
    },
  ).objects;
}
