import path from "node:path";
import type { ClusterLifecycleName } from "../../config/backend-registry.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import { type CommandRunner, formatCommand, type RunResult } from "../../process/command-runner.js";

// The three parts a Kubernetes backend is combined from, apart from each other: the
// cluster's lifecycle (kind and minikube make one per environment; an existing cluster
// gets a namespace per environment), how images reach it (image-delivery.ts) and how this
// machine reaches its services (reachability.ts). kind = kind + archive + NodePort;
// `cluster` = existing + registry + port-forward.

/** Where an environment's objects live and how its API is reached. */
export interface ClusterLocation {
  /** kind cluster or minikube profile (prodlike-<env id>); an existing cluster's context. */
  cluster: string;
  kubeconfig: string;
  context: string;
  namespace: string;
}

export interface ClusterSpec extends ClusterLocation {
  codeRoot: string;
  portMappings: readonly { hostPort: number; nodePort: number }[];
  /** The environment's own folder (.prodlike/NAME): kind config, image archives. */
  workDir: string;
  /** What the environment's namespace carries: owner, project, preset, expiry. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** An existing cluster's registry (prodlike.yaml cluster.registry). */
  registry?: string;
}

export interface ClusterLifecycle {
  readonly name: ClusterLifecycleName;
  /** The tool's version (or the cluster's), undefined when it cannot be used. */
  version(): Promise<string | undefined>;
  locate(envId: string, workDir: string, namespace: string): ClusterLocation;
  /** What it is, in progress lines: "kind cluster prodlike-shop-local". */
  describe(location: ClusterLocation): string;
  exists(location: ClusterLocation): Promise<boolean>;
  create(spec: ClusterSpec): Promise<void>;
  /** It exists already: checks it is this environment's own and updates what `up` says
   *  of it (its lifetime). */
  adopt(spec: ClusterSpec): Promise<void>;
  delete(location: ClusterLocation): Promise<void>;
  /** How to delete it by hand when `destroy` could not. */
  manualDelete(location: ClusterLocation): string;
}

/** A local cluster tool (kind, minikube): one cluster per environment, made with the code
 *  tree mounted and the published ports mapped, images loaded into its node, and a
 *  private kubeconfig so prodlike never switches the user's current kubectl context. */
export interface LocalClusterTool extends ClusterLifecycle {
  /** Where the node sees the code tree; pods mount it with hostPath. */
  readonly nodeCodePath: string;
  loadImages(spec: ClusterSpec, images: readonly string[]): Promise<void>;
  /** The node's container and the Docker network it is on: the local router joins that
   *  network and dials the node's NodePorts by the container's name. */
  node(cluster: string): { container: string; network: string };
}

/** Where a local tool's cluster for an environment is. */
export function localLocation(
  envId: string,
  workDir: string,
  namespace: string,
  context: (cluster: string) => string,
): ClusterLocation {
  const cluster = clusterName(envId);
  return {
    cluster,
    kubeconfig: path.join(workDir, "kubeconfig"),
    context: context(cluster),
    namespace,
  };
}

export function clusterName(envId: string): string {
  return `prodlike-${envId}`;
}

/** Runs a cluster tool and turns a failure into a typed error carrying its output. */
export async function runClusterTool(
  runner: CommandRunner,
  file: string,
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  const result = await runner.run(file, args, options);
  if (result.notFound) {
    throw new ProdlikeError("TOOL_MISSING", `${file} is not installed`, {
      hint: INSTALL_HINTS[file] ?? `Install ${file} and put it on PATH.`,
    });
  }
  if (result.exitCode !== 0) {
    const output = `${result.stderr}\n${result.stdout}`.trim().split("\n").slice(-15).join("\n");
    throw new ProdlikeError(
      "CLUSTER_FAILED",
      `${formatCommand(file, args)} failed (exit ${result.exitCode})`,
      { hint: output || "It printed nothing; run it by hand to see why." },
    );
  }
  return result;
}

export const INSTALL_HINTS: Record<string, string> = {
  kind: "Install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation (or `go install sigs.k8s.io/kind@latest`).",
  minikube: "Install minikube: https://minikube.sigs.k8s.io/docs/start/",
  kubectl:
    "Install kubectl: https://kubernetes.io/docs/tasks/tools/ (optional: prodlike talks to the API itself).",
  docker:
    "Install Docker Engine: https://docs.docker.com/engine/install/ (Debian: apt-get install docker.io).",
};
