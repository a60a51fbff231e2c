import { createServer, type Server } from "node:http";
import type { KubernetesObject } from "@kubernetes/client-node";
import type {
  ClusterLocation,
  ClusterSpec,
  LocalClusterTool,
} from "../../src/backends/kube/cluster-provider.js";
import type { ExecStreams, KubeApi, PodEvent, PodInfo } from "../../src/backends/kube/kube-api.js";

// A cluster tool that keeps its clusters in memory and records what it was asked.
// With `serveHttp`, a cluster it makes answers HTTP on its mapped host ports, as kind's
// port mappings would once the pods run.
export class FakeClusterProvider implements LocalClusterTool {
  readonly name = "kind" as const;
  readonly nodeCodePath = "/prodlike/code";
  readonly clusters = new Set<string>();
  readonly calls: string[] = [];
  private readonly servers = new Map<string, Server[]>();

  constructor(private readonly options: { serveHttp?: boolean } = {}) {}

  /** Closes what `serveHttp` opened. */
  async close(): Promise<void> {
    for (const cluster of [...this.servers.keys()]) await this.stopServing(cluster);
  }

  private async stopServing(cluster: string): Promise<void> {
    for (const server of this.servers.get(cluster) ?? [])
      await new Promise<void>((resolve) => server.close(() => resolve()));
    this.servers.delete(cluster);
  }

  async version(): Promise<string | undefined> {
    return "v0.0.0-fake";
  }
  locate(envId: string, workDir: string, namespace: string): ClusterLocation {
    const cluster = `prodlike-${envId}`;
    return { cluster, kubeconfig: `${workDir}/kubeconfig`, context: `kind-${cluster}`, namespace };
  }
  describe(location: ClusterLocation): string {
    return `kind cluster ${location.cluster}`;
  }
  async adopt(): Promise<void> {}
  manualDelete(location: ClusterLocation): string {
    return `kind delete cluster --name ${location.cluster}`;
  }
  async exists({ cluster }: Pick<ClusterLocation, "cluster">): Promise<boolean> {
    return this.clusters.has(cluster);
  }
  async create(spec: ClusterSpec): Promise<void> {
    this.calls.push(
      `create ${spec.cluster} ${spec.portMappings.map((m) => `${m.hostPort}:${m.nodePort}`).join(",")}`,
    );
    this.clusters.add(spec.cluster);
    if (!this.options.serveHttp) return;
    const servers = await Promise.all(
      spec.portMappings.map(async ({ hostPort }) => {
        const server = createServer((_request, response) => response.end("ok"));
        await new Promise<void>((resolve) => server.listen(hostPort, "127.0.0.1", resolve));
        return server;
      }),
    );
    this.servers.set(spec.cluster, servers);
  }
  async delete({ cluster }: ClusterLocation): Promise<void> {
    this.calls.push(`delete ${cluster}`);
    this.clusters.delete(cluster);
    await this.stopServing(cluster);
  }
  async loadImages(spec: ClusterSpec, images: readonly string[]): Promise<void> {
    this.calls.push(`load ${spec.cluster} ${images.join(" ")}`);
  }
  node(cluster: string): { container: string; network: string } {
    return { container: `${cluster}-control-plane`, network: "kind" };
  }

  context(cluster: string): string {
    return `kind-${cluster}`;
  }
}

// An API server that stores applied objects and reports every workload as rolled out
// (or, with `crashing`, a pod in CrashLoopBackOff).
export class FakeKubeApi implements KubeApi {
  readonly applied: KubernetesObject[] = [];
  readonly patches: { kind: string; name: string; patch: Record<string, unknown> }[] = [];
  readonly execs: { pod: string; container: string; command: string[] }[] = [];
  crashing = false;
  /** Crashes only the workloads this picks (a release whose new template is broken). */
  crashWhen: (workload: KubernetesObject) => boolean = () => false;
  exitCode = 0;
  /** What a command prints, by container name (parity's runtime probe); else `ran …`. */
  execOutput: Record<string, string> = {};
  /** Bumped by deletePod: the workload's replacement pod gets a new uid. */
  private generation = 0;
  readonly deletedPods: string[] = [];

  readonly removed: string[] = [];
  async remove(_apiVersion: string, kind: string, _namespace: string, name: string) {
    this.removed.push(`${kind}/${name}`);
    return true;
  }
  async portForward(): Promise<void> {
    throw new Error("the fake API forwards no ports");
  }
  async canI() {
    return { allowed: true };
  }

  async deletePod(_namespace: string, name: string): Promise<void> {
    this.deletedPods.push(name);
    this.generation++;
  }

  private key(object: KubernetesObject): string {
    return `${object.kind}/${object.metadata?.namespace}/${object.metadata?.name}`;
  }

  async apply(object: KubernetesObject): Promise<void> {
    const index = this.applied.findIndex((item) => this.key(item) === this.key(object));
    if (index >= 0) this.applied.splice(index, 1);
    this.applied.push(structuredClone(object));
  }

  async read<T extends KubernetesObject>(
    _apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<T | undefined> {
    const object = this.applied.find((item) => this.key(item) === `${kind}/${namespace}/${name}`) as
      | (KubernetesObject & { spec?: { replicas?: number } })
      | undefined;
    if (!object) return undefined;
    const replicas = object.spec?.replicas ?? 1;
    const ready = this.crashes(object) ? 0 : replicas;
    return {
      ...object,
      metadata: { ...object.metadata, generation: 1 },
      status: {
        observedGeneration: 1,
        replicas,
        updatedReplicas: ready,
        availableReplicas: ready,
        readyReplicas: ready,
        currentRevision: "r1",
        updateRevision: "r1",
      },
    } as unknown as T;
  }

  async list(_apiVersion: string, kind: string): Promise<KubernetesObject[]> {
    return this.applied.filter((object) => object.kind === kind);
  }

  /** Pods of every scaled-up workload, labelled like its template, filtered by `k=v,…`. */
  async listPods(_namespace: string, labelSelector = ""): Promise<PodInfo[]> {
    const workloads = this.applied.filter(
      (object) => object.kind === "Deployment" || object.kind === "StatefulSet",
    ) as (KubernetesObject & {
      spec: {
        replicas?: number;
        template: {
          metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
          spec: { containers: { name: string }[] };
        };
      };
    })[];
    const wanted = labelSelector
      .split(",")
      .filter(Boolean)
      .map((pair) => pair.split("=") as [string, string]);
    return workloads
      .filter((workload) => (workload.spec.replicas ?? 1) > 0)
      .filter((workload) => {
        const labels = workload.spec.template.metadata?.labels ?? {};
        return wanted.every(([key, value]) => labels[key] === value);
      })
      .map((workload) => {
        const crashing = this.crashes(workload);
        return {
          name: `${workload.metadata?.name}-0`,
          uid: `${workload.metadata?.name}-uid-${this.generation}`,
          labels: workload.spec.template.metadata?.labels ?? {},
          annotations: workload.spec.template.metadata?.annotations ?? {},
          terminating: false,
          phase: "Running",
          containers: workload.spec.template.spec.containers.map((container) => ({
            name: container.name,
            ready: !crashing,
            state: crashing ? "CrashLoopBackOff" : "running",
            restarts: crashing ? 3 : 0,
          })),
        };
      });
  }

  private crashes(workload: KubernetesObject): boolean {
    return this.crashing || this.crashWhen(workload);
  }

  async mergePatch(object: KubernetesObject, patch: Record<string, unknown>): Promise<void> {
    this.patches.push({ kind: object.kind ?? "", name: object.metadata?.name ?? "", patch });
    const stored = this.applied.find((item) => this.key(item) === this.key(object)) as
      | (KubernetesObject & { spec?: Record<string, unknown> })
      | undefined;
    if (stored?.spec) Object.assign(stored.spec, (patch as { spec: Record<string, unknown> }).spec);
  }

  async exec(
    _namespace: string,
    pod: string,
    container: string,
    command: string[],
    streams: ExecStreams,
  ): Promise<number> {
    this.execs.push({ pod, container, command });
    streams.stdout.write(this.execOutput[container] ?? `ran ${command.join(" ")}\n`);
    return this.exitCode;
  }

  async logs(): Promise<void> {}

  async events(): Promise<PodEvent[]> {
    return [];
  }
}
