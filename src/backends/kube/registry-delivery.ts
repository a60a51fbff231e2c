import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { CommandRunner } from "../../process/command-runner.js";
import type { RegistryCredentials } from "../docker/docker-credentials.js";
import type { ClusterSpec } from "./cluster-provider.js";
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
  /** HOST[:PORT][/PATH] the cluster pulls from and this machine pushes to
   *  (localhost:5001); else the one the cluster spec names (prodlike.yaml). */
  registry?: string;
  /** Asks the registry's API; tests pass their own. */
  fetch?: typeof fetch;
  /** The developer's login for a registry host, for registries that want one. */
  credentials?: (host: string) => Promise<RegistryCredentials | undefined>;
}

export class RegistryDelivery implements ImageDelivery {
  readonly name = "registry";

  constructor(
    private readonly runner: CommandRunner,
    private readonly options: RegistryDeliveryOptions,
  ) {}

  async deliver(
    spec: ClusterSpec,
    images: readonly string[],
    _delivered: ReadonlySet<string>,
    onDetail?: (detail: string) => void,
  ): Promise<DeliveryResult> {
    const registry = this.options.registry ?? spec.registry;
    if (!registry) {
      throw new ProdlikeError("CONFIG_INVALID", "Images need a registry the cluster pulls from", {
        hint: "Set `cluster.registry` in prodlike.yaml (HOST[:PORT][/PATH]), one this machine can push to and the cluster can pull from.",
      });
    }
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
      const { host, prefix } = splitRegistry(registry);
      const repository = `${prefix}${repositoryOf(image)}`;
      const tag = contentTag(id);
      const reference = `${host}/${repository}:${tag}`;
      references[image] = reference;
      if (await this.has(host, repository, tag)) continue;
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
  async has(host: string, repository: string, tag: string): Promise<boolean> {
    const url = `${registryScheme(host)}://${host}/v2/${repository}/manifests/${tag}`;
    const ask = (authorization?: string) =>
      (this.options.fetch ?? fetch)(url, {
        method: "HEAD",
        headers: {
          Accept: MANIFEST_TYPES,
          ...(authorization ? { Authorization: authorization } : {}),
        },
        signal: AbortSignal.timeout(10_000),
      });
    let response: Response;
    let loggedIn = false;
    try {
      response = await ask();
      // A registry behind a login: the developer's docker credentials, as docker sends them.
      if (response.status === 401) {
        const authorization = await this.authorization(host, response, repository);
        loggedIn = authorization !== undefined;
        if (authorization) response = await ask(authorization);
      }
    } catch (error) {
      throw unreachable(host, error instanceof Error ? error.message : String(error));
    }
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    // No login, or one the registry no longer takes (a changed password, an expired
    // token): the same remedy, but "wants a login" would send a developer who has one
    // looking in the wrong place.
    if (response.status === 401 || response.status === 403)
      throw new ProdlikeError(
        "CLUSTER_FAILED",
        loggedIn
          ? `The registry ${host} refused the login docker has for it (HTTP ${response.status})`
          : `The registry ${host} wants a login`,
        {
          hint: `Log in as the cluster will pull: \`docker login ${host}\`${loggedIn ? " again" : ""} (prodlike uses those credentials and gives the pods a pull Secret).`,
        },
      );
    throw unreachable(host, `HTTP ${response.status} for ${url}`);
  }

  // Basic: the credentials themselves. Bearer: a pull token from the realm the registry
  // names, asked with them (the distribution token protocol).
  private async authorization(
    host: string,
    challenge: Response,
    repository: string,
  ): Promise<string | undefined> {
    const credentials = await this.options.credentials?.(host);
    if (!credentials) return undefined;
    const basic = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
    const header = challenge.headers.get("www-authenticate") ?? "";
    if (/^basic/i.test(header)) return basic;
    const realm = /realm="([^"]+)"/i.exec(header)?.[1];
    if (!/^bearer/i.test(header) || !realm) return undefined;
    const service = /service="([^"]+)"/i.exec(header)?.[1];
    const tokenUrl = new URL(realm);
    if (service) tokenUrl.searchParams.set("service", service);
    tokenUrl.searchParams.set("scope", `repository:${repository}:pull`);
    const answer = await (this.options.fetch ?? fetch)(tokenUrl, {
      headers: { Authorization: basic },
      signal: AbortSignal.timeout(10_000),
    });
    if (!answer.ok) return undefined;
    const body = (await answer.json()) as { token?: unknown; access_token?: unknown };
    const token = typeof body.token === "string" ? body.token : body.access_token;
    return typeof token === "string" ? `Bearer ${token}` : undefined;
  }
}

/** HOST[:PORT] and the repository prefix a registry setting names (team/ for
 *  registry.example.com/team). */
export function splitRegistry(registry: string): { host: string; prefix: string } {
  const slash = registry.indexOf("/");
  if (slash < 0) return { host: registry, prefix: "" };
  return {
    host: registry.slice(0, slash),
    prefix: `${registry.slice(slash + 1).replace(/\/+$/, "")}/`,
  };
}

// Docker talks plain HTTP to a registry on this machine, TLS to any other.
function registryScheme(host: string): "http" | "https" {
  return /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(host) ? "http" : "https";
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
      hint: `Check that it runs and this machine reaches it (kind's local registry: https://kind.sigs.k8s.io/docs/user/local-registry/; unset PRODLIKE_REGISTRY to load images into a kind node instead; on a team cluster: cluster.registry in prodlike.yaml).`,
    },
  );
}
