import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import { packageFile } from "../../package-files.js";
import type { CommandRunner } from "../../process/command-runner.js";
import {
  type ClusterLocation,
  type ClusterSpec,
  type LocalClusterTool,
  localLocation,
  runClusterTool,
} from "./cluster-provider.js";

export const MINIKUBE_NODE_CODE_PATH = "/prodlike/code";

export const MINIKUBE_PROFILE_FILE = packageFile("kind/minikube.yaml");

/** kind/minikube.yaml: how `minikube start` runs, before what prodlike adds. */
export interface MinikubeProfile {
  driver: string;
  wait: string[];
  kubernetesVersion?: string;
}

export async function loadMinikubeProfile(file = MINIKUBE_PROFILE_FILE): Promise<MinikubeProfile> {
  const profile = parse(await readFile(file, "utf8")) as Partial<MinikubeProfile> | null;
  const wait = profile?.wait;
  if (
    typeof profile?.driver !== "string" ||
    !Array.isArray(wait) ||
    !wait.every((part) => typeof part === "string") ||
    (profile.kubernetesVersion !== undefined && typeof profile.kubernetesVersion !== "string")
  ) {
    throw new ProdlikeError(
      "CONFIG_INVALID",
      `${file}: \`driver\` (a string) and \`wait\` (a list) are needed`,
      { location: { file }, hint: "kind/minikube.yaml ships with prodlike; restore it." },
    );
  }
  return profile as MinikubeProfile;
}

// minikube with the docker driver: the code tree is a bind mount made at start
// (`--mount-string`), never `minikube mount` (9p: slow, and no inotify events), and the
// published ports are Docker port mappings on 127.0.0.1 (`--ports`) to the NodePorts.
export class MinikubeCluster implements LocalClusterTool {
  readonly name = "minikube";
  readonly nodeCodePath = MINIKUBE_NODE_CODE_PATH;

  constructor(private readonly runner: CommandRunner) {}

  async version(): Promise<string | undefined> {
    const result = await this.runner.run("minikube", ["version", "--short"]);
    if (result.exitCode !== 0) return undefined;
    return result.stdout.trim();
  }

  async exists({ cluster }: Pick<ClusterLocation, "cluster">): Promise<boolean> {
    const result = await this.runner.run("minikube", ["profile", "list", "--output", "json"]);
    if (result.notFound) await runClusterTool(this.runner, "minikube", ["version"]);
    // With no profiles at all minikube exits non-zero: that is "does not exist".
    if (result.exitCode !== 0) return false;
    return profileNames(result.stdout).includes(cluster);
  }

  async create(spec: ClusterSpec): Promise<void> {
    const profile = await loadMinikubeProfile();
    await runClusterTool(this.runner, "minikube", startArgs(spec, this.nodeCodePath, profile), {
      env: { KUBECONFIG: spec.kubeconfig },
    });
  }

  async delete({ cluster, kubeconfig }: ClusterLocation): Promise<void> {
    await runClusterTool(this.runner, "minikube", ["delete", "--profile", cluster], {
      env: { KUBECONFIG: kubeconfig },
    });
  }

  async loadImages(spec: ClusterSpec, images: readonly string[]): Promise<void> {
    for (const image of images) {
      await runClusterTool(this.runner, "minikube", [
        "image",
        "load",
        image,
        "--profile",
        spec.cluster,
      ]);
    }
  }

  // The docker driver names the node after the profile, on a network of the same name.
  node(cluster: string): { container: string; network: string } {
    return { container: cluster, network: cluster };
  }

  locate(envId: string, workDir: string, namespace: string): ClusterLocation {
    return localLocation(envId, workDir, namespace, (cluster) => this.context(cluster));
  }

  describe(location: ClusterLocation): string {
    return `minikube cluster ${location.cluster}`;
  }

  // One cluster per environment, named after it: nothing else to check.
  async adopt(): Promise<void> {}

  manualDelete(location: ClusterLocation): string {
    return `minikube delete -p ${location.cluster}`;
  }

  context(cluster: string): string {
    return cluster;
  }
}

export function startArgs(
  spec: ClusterSpec,
  nodeCodePath: string,
  profile: MinikubeProfile,
): string[] {
  return [
    "start",
    "--profile",
    spec.cluster,
    `--driver=${profile.driver}`,
    ...(profile.kubernetesVersion ? [`--kubernetes-version=${profile.kubernetesVersion}`] : []),
    "--mount",
    `--mount-string=${spec.codeRoot}:${nodeCodePath}`,
    ...spec.portMappings.map(
      (mapping) => `--ports=127.0.0.1:${mapping.hostPort}:${mapping.nodePort}`,
    ),
    `--wait=${profile.wait.join(",")}`,
  ];
}

// `minikube profile list -o json`: {"valid": [{"Name": ...}], "invalid": [...]}.
export function profileNames(json: string): string[] {
  try {
    const parsed = JSON.parse(json) as Record<string, { Name?: unknown }[] | undefined>;
    return [...(parsed.valid ?? []), ...(parsed.invalid ?? [])]
      .map((profile) => profile.Name)
      .filter((name): name is string => typeof name === "string");
  } catch {
    return [];
  }
}
