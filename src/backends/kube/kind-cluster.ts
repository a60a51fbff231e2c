import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CommandRunner } from "../../process/command-runner.js";
import {
  type ClusterLocation,
  type ClusterSpec,
  type LocalClusterTool,
  localLocation,
  runClusterTool,
} from "./cluster-provider.js";
import { CONTAINERD_CERTS_DIR, loadKindTemplate, renderKindConfig } from "./kind-config.js";

export const KIND_NODE_CODE_PATH = "/prodlike/code";
/** How long `kind create cluster` waits for the control plane before giving up. */
const CREATE_WAIT = "180s";

// kind: a cluster is one Docker container per node. Mounts and port mappings come from
// the generated config; images go in through `docker save` + `kind load image-archive`,
// which works with Docker's containerd image store where `kind load docker-image` fails.
export class KindCluster implements LocalClusterTool {
  readonly name = "kind";
  readonly nodeCodePath = KIND_NODE_CODE_PATH;

  constructor(
    private readonly runner: CommandRunner,
    /** The Docker network kind puts its nodes on (KIND_EXPERIMENTAL_DOCKER_NETWORK). */
    private readonly network = "kind",
    /** A local registry the node pulls from: its name in image references (localhost:5001)
     *  and the URL the node reaches it at (kind's docs: http://kind-registry:5000). */
    private readonly registry?: { host: string; nodeUrl: string },
  ) {}

  async version(): Promise<string | undefined> {
    const result = await this.runner.run("kind", ["version"]);
    if (result.exitCode !== 0) return undefined;
    return /v\d+\.\d+\.\d+\S*/.exec(result.stdout)?.[0] ?? result.stdout.trim();
  }

  async exists({ cluster }: Pick<ClusterLocation, "cluster">): Promise<boolean> {
    const result = await runClusterTool(this.runner, "kind", ["get", "clusters"]);
    return result.stdout.split("\n").some((line) => line.trim() === cluster);
  }

  async create(spec: ClusterSpec): Promise<void> {
    const config = renderKindConfig(
      {
        codeRoot: spec.codeRoot,
        nodeCodePath: this.nodeCodePath,
        portMappings: spec.portMappings,
        registry: this.registry !== undefined,
      },
      await loadKindTemplate(),
    );
    const configFile = path.join(spec.workDir, "kind-config.yaml");
    await writeFile(configFile, config.yaml);
    await runClusterTool(this.runner, "kind", createArgs(spec, configFile));
    if (this.registry) await this.pointNodeAtRegistry(spec.cluster, this.registry);
  }

  // kind's local-registry pattern: the node's containerd pulls REGISTRY/... from the
  // registry's URL on the node's network (hosts.toml under certs.d/REGISTRY).
  private async pointNodeAtRegistry(
    cluster: string,
    registry: { host: string; nodeUrl: string },
  ): Promise<void> {
    await runClusterTool(this.runner, "docker", [
      "exec",
      this.node(cluster).container,
      "sh",
      "-c",
      'mkdir -p "$1" && printf \'[host."%s"]\\n\' "$2" > "$1/hosts.toml"',
      "sh",
      `${CONTAINERD_CERTS_DIR}/${registry.host}`,
      registry.nodeUrl,
    ]);
  }

  async delete({ cluster, kubeconfig }: ClusterLocation): Promise<void> {
    await runClusterTool(this.runner, "kind", [
      "delete",
      "cluster",
      "--name",
      cluster,
      "--kubeconfig",
      kubeconfig,
    ]);
  }

  async loadImages(spec: ClusterSpec, images: readonly string[]): Promise<void> {
    if (images.length === 0) return;
    const archive = path.join(spec.workDir, "images.tar");
    try {
      await runClusterTool(this.runner, "docker", ["save", "-o", archive, ...images]);
      await runClusterTool(this.runner, "kind", [
        "load",
        "image-archive",
        archive,
        "--name",
        spec.cluster,
      ]);
    } finally {
      // The archive is as big as the images: never leave it behind.
      await rm(archive, { force: true });
    }
  }

  // kind names the node CLUSTER-control-plane and puts every cluster on the `kind`
  // network (KIND_EXPERIMENTAL_DOCKER_NETWORK chooses another: the network given here).
  node(cluster: string): { container: string; network: string } {
    return { container: `${cluster}-control-plane`, network: this.network };
  }

  locate(envId: string, workDir: string, namespace: string): ClusterLocation {
    return localLocation(envId, workDir, namespace, (cluster) => this.context(cluster));
  }

  describe(location: ClusterLocation): string {
    return `kind cluster ${location.cluster}`;
  }

  // One cluster per environment, named after it: nothing else to check.
  async adopt(): Promise<void> {}

  manualDelete(location: ClusterLocation): string {
    return `kind delete cluster --name ${location.cluster}`;
  }

  context(cluster: string): string {
    return `kind-${cluster}`;
  }
}

export function createArgs(spec: ClusterSpec, configFile: string): string[] {
  return [
    "create",
    "cluster",
    "--name",
    spec.cluster,
    "--config",
    configFile,
    "--kubeconfig",
    spec.kubeconfig,
    "--wait",
    CREATE_WAIT,
  ];
}
