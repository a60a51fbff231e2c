import { access, rm } from "node:fs/promises";
import path from "node:path";
import { environmentDir } from "../../env/generated-files.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import { Label } from "../../topology/labels.js";
import type { Progress } from "../../ui/steps.js";
import { type DestroyOptions, type DestroyReport, environmentNotFound } from "../backend.js";
import type { DockerEngine } from "../docker/docker-engine.js";
import type { ImageClaims } from "../docker/image-claims.js";
import { type ComposeCli, type ComposeProject, projectOfContainers } from "./compose-project.js";

// `destroy` on compose: everything labelled with the environment goes (containers,
// volumes, the network, the images no other environment uses), then a check that
// nothing is left. Found by label, not by containers alone: a failed `up` or a killed
// `destroy` can leave a network or volumes with no container.

export const STOP_TIMEOUT_SECONDS = 10;

export async function destroyCompose(
  engine: DockerEngine,
  cli: ComposeCli,
  envId: string,
  progress: Progress,
  options: DestroyOptions & { images?: ImageClaims },
): Promise<DestroyReport> {
  const containers = await engine.listContainers({ [Label.env]: envId });
  const [volumes, networks] = await Promise.all([
    engine.listVolumes({ [Label.env]: envId }),
    engine.listNetworks({ [Label.env]: envId }),
  ]);
  if (containers.length + volumes.length + networks.length === 0) {
    throw environmentNotFound(envId);
  }
  const project = containers.length > 0 ? projectOfContainers(envId, containers) : undefined;
  const imageIds = new Set(containers.map((container) => container.imageId));
  // The images of its other releases too (the kept one, one rolled back): no container
  // runs them, but they were built for this environment.
  // Loaded here: it reads release files with yaml, which status and ls never need.
  const { releaseImages } = await import("./compose-release.js");
  const releaseTags = new Set(project ? await releaseImages(path.dirname(project.file)) : []);
  if (releaseTags.size > 0) {
    for (const image of await engine.listImages({ [Label.managed]: "true" })) {
      if (image.tags.some((tag) => releaseTags.has(tag))) imageIds.add(image.id);
    }
  }
  const report: DestroyReport = { containers: [], volumes: [], networks: [], images: [] };
  // Images another `up` claimed meanwhile: theirs now, not left behind.
  const claimedIds = new Set<string>();

  await progress.run([
    {
      title: `Remove containers, volumes and network of ${envId}`,
      run: async () => {
        report.containers = containers.map((container) => container.name);
        report.volumes = volumes;
        report.networks = networks.map((network) => network.name);
        await removeEnvironment(engine, cli, envId, project);
      },
    },
    {
      title: options.keepImages
        ? "Keep images (--keep-images)"
        : "Remove images no other environment uses",
      run: async () => {
        if (options.keepImages) return;
        const removal = await options.images?.removing(envId);
        try {
          report.images = await removeUnusedImages(
            engine,
            imageIds,
            removal?.inUse ?? new Set(),
            claimedIds,
          );
        } finally {
          if (removal) await options.images?.release(removal.claim);
        }
      },
    },
    {
      title: "Verify nothing is left",
      run: async () => {
        const removable = [...imageIds].filter((id) => !claimedIds.has(id));
        await verifyGone(engine, envId, options.keepImages ? new Set() : new Set(removable));
        const codeRoot = containers[0]?.labels[Label.codeRoot];
        const name = containers[0]?.labels[Label.name];
        if (codeRoot && name)
          await rm(environmentDir(codeRoot, name), { recursive: true, force: true });
      },
    },
  ]);
  return report;
}

/** compose down when the file is there, then a sweep by label for anything left (a
 *  deleted checkout, a crashed run, a project that never started). */
export async function removeEnvironment(
  engine: DockerEngine,
  cli: ComposeCli,
  envId: string,
  project: ComposeProject | undefined,
): Promise<void> {
  const hasFile =
    project !== undefined &&
    (await access(project.file).then(
      () => true,
      () => false,
    ));
  if (hasFile && project) {
    await cli
      .run(project, { kind: "down", removeVolumes: true, timeoutSeconds: STOP_TIMEOUT_SECONDS }, [])
      .catch(() => undefined);
  }
  for (const container of await engine.listContainers({ [Label.env]: envId }))
    await engine.removeContainer(container.id);
  for (const volume of await engine.listVolumes({ [Label.env]: envId }))
    await engine.removeVolume(volume);
  for (const network of await engine.listNetworks({ [Label.env]: envId }))
    await engine.removeNetwork(network.id);
}

/** The prodlike-built images of these ids no container uses any more, nor an `up` is
 *  about to (`claimed`, by tag); only what this call removed is reported (a parallel
 *  destroy may have taken the same image). */
async function removeUnusedImages(
  engine: DockerEngine,
  imageIds: ReadonlySet<string>,
  claimed: ReadonlySet<string>,
  claimedIds: Set<string>,
): Promise<string[]> {
  const stillUsed = new Set(
    (await engine.listContainers({})).map((container) => container.imageId),
  );
  const managed = await engine.listImages({ [Label.managed]: "true" });
  const removed: string[] = [];
  for (const image of managed) {
    if (!imageIds.has(image.id) || stillUsed.has(image.id)) continue;
    if (image.tags.some((tag) => claimed.has(tag))) {
      claimedIds.add(image.id);
      continue;
    }
    // By tag: one image can carry several (two presets building identical contexts), and
    // the engine refuses to delete such an image by its id. The last tag removed removes
    // the image.
    for (const reference of image.tags.length > 0 ? image.tags : [image.id]) {
      if (await engine.removeImage(reference)) removed.push(reference);
    }
  }
  return removed;
}

async function verifyGone(
  engine: DockerEngine,
  envId: string,
  imageIds: ReadonlySet<string>,
): Promise<void> {
  const left = [
    ...(await engine.listContainers({ [Label.env]: envId })).map((c) => `container ${c.name}`),
    ...(await engine.listVolumes({ [Label.env]: envId })).map((v) => `volume ${v}`),
    ...(await engine.listNetworks({ [Label.env]: envId })).map((n) => `network ${n.name}`),
  ];
  if (imageIds.size > 0) {
    const stillUsed = new Set(
      (await engine.listContainers({})).map((container) => container.imageId),
    );
    for (const image of await engine.listImages({ [Label.managed]: "true" })) {
      if (imageIds.has(image.id) && !stillUsed.has(image.id))
        left.push(`image ${image.tags[0] ?? image.id}`);
    }
  }
  if (left.length > 0) {
    throw new ProdlikeError(
      "COMMAND_FAILED",
      `destroy left resources of ${envId} behind: ${left.join(", ")}`,
      { hint: "Remove them with docker rm/volume rm/network rm, and report this as a bug." },
    );
  }
}
