import { ProdlikeError } from "../../errors/prodlike-error.js";
import { type CommandRunner, formatCommand, type RunResult } from "../../process/command-runner.js";

// A local cluster tool (kind or minikube) as the Kubernetes backend needs it: one cluster
// per environment, made with the code tree mounted and the published ports mapped, the
// environment's images loaded into its node, and a private kubeconfig so prodlike never
// switches the user's current kubectl context.

export interface ClusterSpec {
  /** prodlike-<env id>: the kind cluster name or the minikube profile. */
  cluster: string;
  codeRoot: string;
  portMappings: readonly { hostPort: number; nodePort: number }[];
  /** The environment's own folder (.prodlike/NAME): kind config, image archives. */
  workDir: string;
  /** The kubeconfig file the cluster's credentials are written to. */
  kubeconfig: string;
}

export interface ClusterProvider {
  readonly name: "kind" | "minikube";
  /** Where the node sees the code tree; pods mount it with hostPath. */
  readonly nodeCodePath: string;
  /** The tool's version, or undefined when it is not installed. */
  version(): Promise<string | undefined>;
  exists(cluster: string): Promise<boolean>;
  create(spec: ClusterSpec): Promise<void>;
  delete(cluster: string, kubeconfig: string): Promise<void>;
  loadImages(spec: ClusterSpec, images: readonly string[]): Promise<void>;
  /** The kubeconfig context the tool names its cluster by. */
  context(cluster: string): string;
  /** The node's container and the Docker network it is on: the local router joins that
   *  network and dials the node's NodePorts by the container's name. */
  node(cluster: string): { container: string; network: string };
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
