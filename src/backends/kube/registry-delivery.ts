import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { CommandRunner } from "../../process/command-runner.js";
import { runClusterTool } from "./cluster-provider.js";
import type { DeliveryResult, ImageDelivery } from "./image-delivery.js";

// Images through a local registry the node pulls from (kind's local-registry pattern):
// each image is pushed as REGISTRY/REPOSITORY:id-<its image id>, a tag that names its
// content, so an image already there is never sent again (one HEAD request tells), and a
// changed one sends only its new layers (the registry answers for the others: `docker
// push` skips them).

const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export interface RegistryDeliveryOptions {
  /** host:port the node pulls from and this machine pushes to (localhost:5001). */
  registry: string;
  /** Asks the registry's API; tests pass their own. */
  fetch?: typeof fetch;
}

export class RegistryDelivery implements ImageDelivery {
  readonly name = "registry";

  constructor(
    private readonly runner: CommandRunner,
    private readonly options: RegistryDeliveryOptions,
  ) {}

  async deliver(
    _spec: unknown,
    images: readonly string[],
    _delivered: ReadonlySet<string>,
    onDetail?: (detail: string) => void,
  ): Promise<DeliveryResult> {
    const references: Record<string, string> = {};
    const sent: string[] = [];
    for (const image of images) {
      const id = (
        await runClusterTool(this.runner, "docker", [
          "image",
          "inspect",
          "--format",
          "{{.Id}}",
          image,
        ])
      ).stdout.trim();
      const repository = repositoryOf(image);
      const tag = contentTag(id);
      const reference = `${this.options.registry}/${repository}:${tag}`;
      references[image] = reference;
      if (await this.has(repository, tag)) continue;
      onDetail?.(`pushing ${image}`);
      await runClusterTool(this.runner, "docker", ["tag", image, reference]);
      try {
        await runClusterTool(this.runner, "docker", ["push", reference], { timeoutMs: 1_800_000 });
      } finally {
        // The registry's name for it is not the user's: only the local tag stays.
        await this.runner.run("docker", ["image", "rm", "--no-prune", reference]);
      }
      sent.push(image);
    }
    return { references, sent };
  }

  /** Whether the registry has the manifest of REPOSITORY:TAG. */
  async has(repository: string, tag: string): Promise<boolean> {
    const url = `http://${this.options.registry}/v2/${repository}/manifests/${tag}`;
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(url, {
        method: "HEAD",
        headers: { Accept: MANIFEST_TYPES },
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw unreachable(
        this.options.registry,
        error instanceof Error ? error.message : String(error),
      );
    }
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw unreachable(this.options.registry, `HTTP ${response.status} for ${url}`);
  }
}

/** A tag that names an image's content: its image id (the digest of its config). */
export function contentTag(imageId: string): string {
  const hex = imageId.replace(/^sha256:/, "");
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new ProdlikeError("INTERNAL", `Not an image id: ${imageId}`);
  }
  return `id-${hex.slice(0, 32)}`;
}

/** The repository of a local tag, without its tag, digest or registry host. */
export function repositoryOf(image: string): string {
  const withoutDigest = image.split("@")[0] ?? image;
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  const name = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  const [first, ...rest] = name.split("/");
  // A first part with a dot or a port, or localhost, is a registry host.
  if (rest.length > 0 && first && (/[.:]/.test(first) || first === "localhost"))
    return rest.join("/");
  return name;
}

function unreachable(registry: string, why: string): ProdlikeError {
  return new ProdlikeError(
    "CLUSTER_FAILED",
    `The image registry ${registry} did not answer: ${why}`,
    {
      hint: `Start it (kind's local registry: https://kind.sigs.k8s.io/docs/user/local-registry/), or unset PRODLIKE_REGISTRY to load images into the node instead.`,
    },
  );
}
