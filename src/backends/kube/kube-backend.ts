import { rm } from "node:fs/promises";
import path from "node:path";
import { type Readable, Writable } from "node:stream";
import type { KubernetesObject, V1Deployment, V1StatefulSet } from "@kubernetes/client-node";
import type {
  EnvironmentRecord,
  EnvironmentRecords,
  RecordedPort,
} from "../../env/environment-records.js";
import {
  environmentDir,
  prepareEnvironmentDir,
  writeIfChanged,
} from "../../env/generated-files.js";
import type { PortClaims } from "../../env/port-allocator.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import { podImages } from "../../mirror/to-cluster.js";
import { workloadSelector } from "../../mirror/web-entry.js";
import { OUTPUT_TAIL_CHARS } from "../../process/command-runner.js";
import { KubeLabel } from "../../topology/kube-labels.js";
import type { KubeObject, Topology } from "../../topology/model.js";
import type { Progress, Step, StepContext } from "../../ui/steps.js";
import type { Clock } from "../../waits/clock.js";
import { poll, WaitFailed } from "../../waits/wait.js";
import {
  type Backend,
  type DestroyOptions,
  type DestroyReport,
  type EnvironmentState,
  type EnvironmentStatus,
  type ExecRequest,
  environmentNotFound,
  type RunningState,
  type ServiceStatus,
  type StreamExecRequest,
  type StreamExecResult,
  type UpOptions,
  type UpResult,
} from "../backend.js";
import type { DockerEngine } from "../docker/docker-engine.js";
import { waitForWebUrl } from "../web-wait.js";
import {
  type ClusterDeployment,
  mirroredDeployment,
  presetDeployment,
} from "./cluster-deployment.js";
import {
  type ClusterProvider,
  type ClusterSpec,
  clusterName,
  INSTALL_HINTS,
} from "./cluster-provider.js";
import type { KubeApi, PodInfo } from "./kube-api.js";
import { deploymentRollout, type RolloutState, statefulSetRollout } from "./rollout.js";

export interface KubeBackendDeps {
  provider: ClusterProvider;
  /** Builds the preset images; kind and minikube's docker driver run on it too. */
  engine: DockerEngine;
  records: EnvironmentRecords;
  clock: Clock;
  connect(kubeconfig: string, context: string): Promise<KubeApi>;
  stdio?: { stdin: Readable; stdout: Writable; stderr: Writable };
}

const MANIFESTS_FILE = "manifests.yaml";

const WORKLOAD_KINDS = [
  ["apps/v1", "Deployment"],
  ["apps/v1", "StatefulSet"],
  ["batch/v1", "CronJob"],
  ["batch/v1", "Job"],
] as const;

// The kind and minikube backends: one local cluster per environment (`prodlike-<env>`),
// the topology rendered to Kubernetes objects, applied with server-side apply, and
// waited for with kubectl's rollout rules. Which tool makes the cluster is the only
// difference, so it is a ClusterProvider.
export class KubeBackend implements Backend {
  constructor(private readonly deps: KubeBackendDeps) {}

  get name(): "kind" | "minikube" {
    return this.deps.provider.name;
  }

  async preflight(): Promise<void> {
    await this.deps.engine.ping();
    if ((await this.deps.provider.version()) === undefined) {
      throw new ProdlikeError("TOOL_MISSING", `${this.name} is not installed`, {
        hint: `${INSTALL_HINTS[this.name]} \`prodlike doctor\` lists what this machine has.`,
      });
    }
  }

  async portClaims(envId: string): Promise<PortClaims> {
    const own: Record<string, number> = {};
    const others = new Set<number>();
    for (const record of await this.deps.records.list()) {
      for (const port of record.ports) {
        if (record.id === envId) own[port.name] = port.hostPort;
        else others.add(port.hostPort);
      }
    }
    return { own, others };
  }

  async ownerCodeRoot(envId: string): Promise<string | undefined> {
    return (await this.deps.records.get(envId))?.codeRoot;
  }

  async up(topology: Topology, progress: Progress, options: UpOptions): Promise<UpResult> {
    const context = { backend: this.name, nodeCodePath: this.deps.provider.nodeCodePath };
    const { manifests } = topology;
    if (!manifests) return this.deploy(presetDeployment(topology, context), progress, options);
    // A digest reference cannot be loaded by tag: the cluster pulls it, as production does.
    const localImages = new Set<string>();
    for (const image of podImages(manifests)) {
      if (!image.includes("@") && (await this.deps.engine.imageExists(image)))
        localImages.add(image);
    }
    return this.deploy(
      mirroredDeployment({ ...topology, manifests }, { ...context, localImages }),
      progress,
      {
        ...options,
        rebuild: false,
      },
    );
  }

  /** The workloads as the environment's cluster runs them. */
  async running(envId: string): Promise<RunningState> {
    const record = await this.requireRecord(envId);
    if (!(await this.deps.provider.exists(record.cluster)))
      return { shape: "objects", objects: [] };
    const api = await this.deps.connect(record.kubeconfig, record.context);
    const selector = `${KubeLabel.env}=${envId}`;
    const found: KubernetesObject[] = [];
    for (const [apiVersion, kind] of WORKLOAD_KINDS) {
      // List items leave apiVersion and kind off.
      for (const object of await api.list(apiVersion, kind, record.namespace, selector))
        found.push({ ...object, apiVersion, kind });
    }
    return { shape: "objects", objects: found as KubeObject[] };
  }

  // One path for a preset's topology and a mirrored layout: record the environment,
  // make the cluster, load images, apply, wait for rollouts and the web URL.
  private async deploy(
    plan: ClusterDeployment,
    progress: Progress,
    options: UpOptions,
  ): Promise<UpResult> {
    const { provider, records } = this.deps;
    const envId = plan.identity.id;
    const dir = environmentDir(plan.codeRoot, plan.identity.name);
    const cluster = clusterName(envId);
    const previous = await records.get(envId);
    const existed = await provider.exists(cluster);
    const record = newRecord(plan, provider, {
      cluster,
      dir,
      previous: existed ? previous : undefined,
    });

    // Host ports are not in the manifests (the cluster maps them), so check them first.
    if (existed && previous && !samePorts(previous.ports, record.ports)) {
      throw new ProdlikeError(
        "NOT_SUPPORTED",
        `The ports of cluster ${cluster} were fixed when it was made`,
        {
          hint: `Published ports changed (${describePorts(previous.ports)} -> ${describePorts(record.ports)}). Run \`prodlike destroy --backend ${this.name}\`, then up again.`,
        },
      );
    }

    if (existed && previous && !options.rebuild && previous.configHash === plan.configHash) {
      const status = await this.status(envId);
      if (status?.state === "running") {
        await plan.writeFiles(progress);
        return { status, changed: false };
      }
    }
    const spec: ClusterSpec = {
      cluster,
      codeRoot: plan.codeRoot,
      portMappings: record.ports.map(({ hostPort, nodePort }) => ({ hostPort, nodePort })),
      workDir: dir,
      kubeconfig: record.kubeconfig,
    };
    let api: KubeApi | undefined;
    const { imageSteps } = await import("../docker/image-builder.js");

    try {
      await progress.run([
        ...(plan.build.length > 0
          ? [
              {
                title: "Images",
                children: imageSteps(this.deps.engine, plan.build, {
                  rebuild: options.rebuild,
                  preset: plan.preset,
                }),
              },
            ]
          : []),
        {
          title: existed ? `Cluster ${cluster} (exists)` : `Create ${this.name} cluster ${cluster}`,
          run: async () => {
            await prepareEnvironmentDir(plan.codeRoot, plan.identity.name);
            if (existed) return;
            // Recorded before it exists: a failed or interrupted create is still found
            // and removed by `destroy`.
            await records.put({ ...record, loadedImages: [] });
            await provider.create(spec);
          },
        },
        {
          title: "Load images into the node",
          run: async (context) => {
            const loaded = new Set(existed ? (previous?.loadedImages ?? []) : []);
            const missing = plan.load.filter((tag) => !loaded.has(tag));
            if (missing.length === 0) {
              context.setTitle(
                plan.load.length > 0 ? "Images already in the node" : "No local images to load",
              );
              return;
            }
            await provider.loadImages(spec, missing);
            record.loadedImages = [...new Set([...loaded, ...missing])].sort();
            await records.put({ ...record, configHash: previous?.configHash ?? "" });
          },
        },
        {
          title: "Write configuration",
          run: async () => {
            await writeIfChanged(path.join(dir, MANIFESTS_FILE), plan.yaml, 0o600);
            await plan.writeFiles(progress);
          },
        },
        {
          title: `Apply ${plan.objects.length} objects (server-side apply)`,
          run: async () => {
            api = await this.deps.connect(record.kubeconfig, record.context);
            for (const object of plan.objects) {
              // A Job's template cannot change once it exists: one that ran stays as it ran.
              if (
                object.kind === "Job" &&
                (await api.read(
                  object.apiVersion ?? "",
                  "Job",
                  plan.namespace,
                  object.metadata?.name ?? "",
                ))
              )
                continue;
              await api.apply(resumed(object));
            }
          },
        },
        {
          title: "Wait for rollouts",
          concurrent: true,
          children: this.rolloutSteps(
            plan.objects,
            plan.namespace,
            () => api,
            options.healthTimeoutMs,
          ),
        },
        ...(plan.webUrl
          ? [this.httpStep(plan.webUrl, plan.webLogServices, options.healthTimeoutMs)]
          : []),
      ]);
    } catch (error) {
      if (!existed) {
        // A brand-new cluster that failed holds no data: remove it so a retry starts
        // clean. An existing environment is left as it was.
        await provider.delete(cluster, record.kubeconfig).catch(() => undefined);
        await records.delete(envId);
      }
      throw error;
    }
    await records.put(record);
    return { status: await this.requireStatus(envId), changed: true };
  }

  private rolloutSteps(
    objects: readonly KubernetesObject[],
    namespace: string,
    api: () => KubeApi | undefined,
    timeoutMs: number,
  ): Step[] {
    const workloads = objects.filter(
      (object) => object.kind === "Deployment" || object.kind === "StatefulSet",
    );
    return workloads.map((workload) => {
      const name = workload.metadata?.name ?? "";
      return {
        title: `${workload.kind} ${name}`,
        run: async (context: StepContext) => {
          const client = api();
          if (!client) throw new ProdlikeError("INTERNAL", "Kubernetes client not connected");
          await this.waitForRollout(client, namespace, workload, {
            timeoutMs,
            onDetail: (detail) => context.update(detail),
          });
          context.setTitle(`${workload.kind} ${name} rolled out`);
        },
      };
    });
  }

  private httpStep(url: string, logServices: string[], timeoutMs: number): Step {
    return {
      title: `Wait for ${url}`,
      run: async (context) => {
        await waitForWebUrl(url, this.deps.clock, {
          timeoutMs,
          intervalMs: 100,
          onDetail: (detail) => context.update(detail),
          logServices: [`--backend ${this.name}`, ...logServices],
        });
        context.setTitle(`web answers on ${new URL(url).origin}`);
      },
    };
  }

  private async waitForRollout(
    api: KubeApi,
    namespace: string,
    workload: KubernetesObject,
    options: { timeoutMs: number; onDetail: (detail: string) => void },
  ): Promise<void> {
    const name = workload.metadata?.name ?? "";
    const strategy = poll(
      `${workload.kind} ${name}`,
      async () => {
        const live = await api.read(
          workload.apiVersion ?? "",
          workload.kind ?? "",
          namespace,
          name,
        );
        if (!live) return { done: false, detail: "not created yet" };
        const state: RolloutState =
          workload.kind === "StatefulSet"
            ? statefulSetRollout(live as V1StatefulSet)
            : deploymentRollout(live as V1Deployment);
        if (state.phase === "failed") return { failed: true, reason: state.message };
        if (state.phase === "done") return { done: true };
        // A pod stuck in a state it will not leave by itself fails the wait at once.
        const pods = await api.listPods(namespace, podSelector(workload));
        const stuck = stuckReason(pods);
        if (stuck) return { failed: true, reason: stuck };
        return { done: false, detail: state.message };
      },
      { timeoutMs: options.timeoutMs, intervalMs: 500 },
    );
    try {
      await strategy.wait(this.deps.clock, options.onDetail);
    } catch (error) {
      if (!(error instanceof WaitFailed)) throw error;
      const pods = await api.listPods(namespace, podSelector(workload)).catch(() => []);
      throw new ProdlikeError(
        "ROLLOUT_FAILED",
        `${workload.kind} ${name} did not roll out: ${error.reason}`,
        {
          hint: `${describePods(pods)}\nMore: prodlike logs --backend ${this.name} ${name}`,
          data: { workload: name, timedOut: error.timedOut },
        },
      );
    }
  }

  // Scales every workload to zero and suspends CronJobs: the pods stop, the volume
  // claims (the database) stay, and `up` scales back by applying the manifests again.
  async down(envId: string, progress: Progress): Promise<EnvironmentStatus> {
    const record = await this.requireRecord(envId);
    await progress.run([
      {
        title: `Scale ${envId} to zero (data kept)`,
        run: async () => {
          if (!(await this.deps.provider.exists(record.cluster))) return;
          const api = await this.deps.connect(record.kubeconfig, record.context);
          const selector = `${KubeLabel.env}=${envId}`;
          for (const [apiVersion, kind] of [
            ["apps/v1", "Deployment"],
            ["apps/v1", "StatefulSet"],
          ] as const) {
            for (const object of await api.list(apiVersion, kind, record.namespace, selector)) {
              await api.mergePatch(object, { spec: { replicas: 0 } });
            }
          }
          for (const object of await api.list("batch/v1", "CronJob", record.namespace, selector)) {
            await api.mergePatch(object, { spec: { suspend: true } });
          }
        },
      },
    ]);
    record.configHash = "";
    await this.deps.records.put(record);
    return this.requireStatus(envId);
  }

  async destroy(
    envId: string,
    progress: Progress,
    options: DestroyOptions,
  ): Promise<DestroyReport> {
    const record = await this.requireRecord(envId);
    const { provider, engine, records } = this.deps;
    const report: DestroyReport = {
      containers: [],
      volumes: [],
      networks: [],
      images: [],
      clusters: [record.cluster],
    };
    await progress.run([
      {
        title: `Delete ${this.name} cluster ${record.cluster}`,
        run: async () => {
          if (await provider.exists(record.cluster))
            await provider.delete(record.cluster, record.kubeconfig);
        },
      },
      {
        title: options.keepImages
          ? "Keep images (--keep-images)"
          : "Remove images no other environment uses",
        run: async () => {
          if (options.keepImages) return;
          const others = (await records.list()).filter((other) => other.id !== envId);
          const usedElsewhere = new Set(others.flatMap((other) => other.loadedImages));
          const inContainers = new Set((await engine.listContainers({})).map((c) => c.image));
          // Only what prodlike built for it: a mirror loads the user's own images.
          for (const tag of record.builtImages ?? record.loadedImages) {
            if (usedElsewhere.has(tag) || inContainers.has(tag) || !(await engine.imageExists(tag)))
              continue;
            await engine.removeImage(tag);
            report.images.push(tag);
          }
        },
      },
      {
        title: "Verify nothing is left",
        run: async () => {
          if (await provider.exists(record.cluster)) {
            throw new ProdlikeError("COMMAND_FAILED", `Cluster ${record.cluster} is still there`, {
              hint: `Delete it by hand: ${this.name === "kind" ? `kind delete cluster --name ${record.cluster}` : `minikube delete -p ${record.cluster}`}`,
            });
          }
          // The kubeconfig, kind config, manifests and any image archive.
          await rm(environmentDir(record.codeRoot, record.name), { recursive: true, force: true });
          await records.delete(envId);
        },
      },
    ]);
    return report;
  }

  async status(envId: string): Promise<EnvironmentStatus | undefined> {
    const record = await this.deps.records.get(envId);
    if (!record) return undefined;
    if (!(await this.deps.provider.exists(record.cluster))) return statusOf(record, [], "stopped");
    const api = await this.deps.connect(record.kubeconfig, record.context);
    const pods = (await api.listPods(record.namespace, `${KubeLabel.env}=${envId}`)).filter(
      (pod) => pod.phase !== "Succeeded" && pod.phase !== "Failed",
    );
    return statusOf(record, pods);
  }

  async list(): Promise<EnvironmentStatus[]> {
    const records = (await this.deps.records.list()).filter(
      (record) => record.backend === this.name,
    );
    const statuses = await Promise.all(
      records.map((record) => this.status(record.id).catch(() => statusOf(record, [], "partial"))),
    );
    return statuses.filter((status): status is EnvironmentStatus => status !== undefined);
  }

  async exec(envId: string, request: ExecRequest): Promise<number> {
    const { record, api, pod } = await this.podFor(envId, request.service);
    const stdio = this.deps.stdio ?? {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
    };
    // The exec API has no working directory: a shell changes into it first.
    const command = request.workdir
      ? ["sh", "-c", 'cd "$0" && exec "$@"', request.workdir, ...request.command]
      : request.command;
    const rawMode = request.tty && "setRawMode" in stdio.stdin;
    if (rawMode) (stdio.stdin as NodeJS.ReadStream).setRawMode(true);
    try {
      return await api.exec(record.namespace, pod.name, request.service, command, {
        stdin: stdio.stdin,
        stdout: stdio.stdout,
        stderr: stdio.stderr,
        tty: request.tty,
      });
    } finally {
      if (rawMode) (stdio.stdin as NodeJS.ReadStream).setRawMode(false);
    }
  }

  // The pod goes; its StatefulSet or Deployment makes a new one on the same claim.
  async restartService(envId: string, service: string, timeoutMs: number): Promise<void> {
    const { record, api, pod } = await this.podFor(envId, service);
    await api.deletePod(record.namespace, pod.name);
    const strategy = poll(
      `${service} restarted`,
      async () => {
        const pods = await api.listPods(record.namespace, `${KubeLabel.env}=${envId}`);
        const replacement = pods.find((candidate) =>
          candidate.containers.some((container) => container.name === service),
        );
        const container = replacement?.containers.find((candidate) => candidate.name === service);
        if (!replacement || replacement.uid === pod.uid)
          return { done: false, detail: "old pod stopping" };
        if (container && STUCK.has(container.state))
          return { failed: true, reason: container.state };
        return container?.ready
          ? { done: true }
          : { done: false, detail: container?.state ?? "pending" };
      },
      { timeoutMs, intervalMs: 500 },
    );
    try {
      await strategy.wait(this.deps.clock);
    } catch (error) {
      if (!(error instanceof WaitFailed)) throw error;
      throw new ProdlikeError(
        "HEALTH_TIMEOUT",
        `Service ${service} did not come back: ${error.reason}`,
      );
    }
  }

  async execStream(envId: string, request: StreamExecRequest): Promise<StreamExecResult> {
    const { record, api, pod } = await this.podFor(envId, request.service, request.selector);
    let stdout = "";
    let stderr = "";
    const collect = (append: (text: string) => void) =>
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          append(chunk.toString("utf8"));
          done();
        },
      });
    const exitCode = await api.exec(record.namespace, pod.name, request.service, request.command, {
      stdin: request.stdin ?? null,
      stdout: request.stdout ?? collect((text) => (stdout += text)),
      stderr: collect((text) => (stderr = (stderr + text).slice(-OUTPUT_TAIL_CHARS))),
      tty: false,
    });
    return { exitCode, stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, "") };
  }

  async logs(
    envId: string,
    services: string[],
    options: { follow: boolean; tail: number },
  ): Promise<number> {
    const record = await this.requireRecord(envId);
    const api = await this.deps.connect(record.kubeconfig, record.context);
    const pods = await api.listPods(record.namespace, `${KubeLabel.env}=${envId}`);
    const targets = pods.flatMap((pod) =>
      pod.containers
        .filter((container) => services.length === 0 || services.includes(container.name))
        .map((container) => ({ pod: pod.name, container: container.name })),
    );
    for (const service of services) {
      if (!targets.some((target) => target.container === service))
        throw serviceNotFound(envId, service, pods);
    }
    const stdout = this.deps.stdio?.stdout ?? process.stdout;
    await Promise.all(
      targets.map((target) =>
        api.logs(
          record.namespace,
          target.pod,
          target.container,
          prefixed(stdout, targets.length > 1 ? target.container : ""),
          options,
        ),
      ),
    );
    return 0;
  }

  private async podFor(
    envId: string,
    service: string,
    selector?: string,
  ): Promise<{ record: EnvironmentRecord; api: KubeApi; pod: PodInfo }> {
    const record = await this.requireRecord(envId);
    const api = await this.deps.connect(record.kubeconfig, record.context);
    const pods = await api.listPods(
      record.namespace,
      [`${KubeLabel.env}=${envId}`, ...(selector ? [selector] : [])].join(","),
    );
    const pod = pods.find((candidate) =>
      candidate.containers.some((container) => container.name === service),
    );
    if (!pod) throw serviceNotFound(envId, service, pods);
    const container = pod.containers.find((candidate) => candidate.name === service);
    if (pod.phase !== "Running" || container?.state !== "running") {
      throw new ProdlikeError(
        "SERVICE_NOT_RUNNING",
        `Service ${service} of ${envId} is ${container?.state ?? pod.phase}`,
        {
          hint: "Start the environment with `prodlike up`.",
        },
      );
    }
    return { record, api, pod };
  }

  private async requireRecord(envId: string): Promise<EnvironmentRecord> {
    const record = await this.deps.records.get(envId);
    if (!record || record.backend !== this.name) {
      throw environmentNotFound(envId);
    }
    return record;
  }

  private async requireStatus(envId: string): Promise<EnvironmentStatus> {
    const status = await this.status(envId);
    if (!status) throw environmentNotFound(envId);
    return status;
  }
}

function newRecord(
  plan: ClusterDeployment,
  provider: ClusterProvider,
  parts: { cluster: string; dir: string; previous: EnvironmentRecord | undefined },
): EnvironmentRecord {
  return {
    id: plan.identity.id,
    project: plan.identity.project,
    name: plan.identity.name,
    backend: provider.name,
    preset: plan.preset,
    codeRoot: plan.codeRoot,
    cluster: parts.cluster,
    kubeconfig: path.join(parts.dir, "kubeconfig"),
    context: provider.context(parts.cluster),
    namespace: plan.namespace,
    ports: plan.ports,
    loadedImages: parts.previous?.loadedImages ?? [],
    builtImages: [...new Set([...(parts.previous?.builtImages ?? []), ...plan.owned])].sort(),
    configHash: plan.configHash,
    createdAt: parts.previous?.createdAt ?? new Date().toISOString(),
  };
}

// `down` suspends CronJobs with a patch, and an apply that leaves `suspend` out does not
// take back a field another operation set: stating `false` does, so `up` resumes them.
function resumed(object: KubernetesObject): KubernetesObject {
  const spec = (object as { spec?: { suspend?: boolean } }).spec;
  if (object.kind !== "CronJob" || !spec || spec.suspend !== undefined) return object;
  return { ...object, spec: { ...spec, suspend: false } } as KubernetesObject;
}

// The pods a workload owns, by its own selector (a preset's carry app.kubernetes.io/name).
function podSelector(workload: KubernetesObject): string {
  return workloadSelector(workload) ?? `${KubeLabel.appName}=${workload.metadata?.name ?? ""}`;
}

function samePorts(a: readonly RecordedPort[], b: readonly RecordedPort[]): boolean {
  return describePorts(a) === describePorts(b);
}

function describePorts(ports: readonly RecordedPort[]): string {
  return (
    ports
      .map((port) => `${port.hostPort}->${port.nodePort}`)
      .sort()
      .join(", ") || "none"
  );
}

// Waiting reasons a pod does not recover from without a change: fail fast with them.
const STUCK = new Set([
  "ImagePullBackOff",
  "ErrImagePull",
  "ErrImageNeverPull",
  "CrashLoopBackOff",
  "CreateContainerConfigError",
  "InvalidImageName",
]);

export function stuckReason(pods: readonly PodInfo[]): string | undefined {
  for (const pod of pods) {
    for (const container of pod.containers) {
      if (STUCK.has(container.state)) return `${pod.name}/${container.name}: ${container.state}`;
    }
  }
  return undefined;
}

function describePods(pods: readonly PodInfo[]): string {
  if (pods.length === 0) return "No pods were created.";
  return pods
    .map(
      (pod) =>
        `${pod.name} ${pod.phase}: ${pod.containers.map((c) => `${c.name} ${c.state}${c.ready ? " ready" : ""}${c.restarts ? ` (${c.restarts} restarts)` : ""}`).join(", ")}`,
    )
    .join("\n");
}

export function statusOf(
  record: EnvironmentRecord,
  pods: readonly PodInfo[],
  forced?: EnvironmentState,
): EnvironmentStatus {
  const services: ServiceStatus[] = pods
    .flatMap((pod) =>
      pod.containers.map((container) => ({
        name: container.name,
        role: pod.labels[KubeLabel.role] ?? "",
        state: container.state,
        health: container.ready
          ? "healthy"
          : container.state === "running"
            ? "starting"
            : "unhealthy",
        ports: record.ports
          .filter((port) => port.service === container.name)
          .map((port) => ({
            name: port.name,
            containerPort: port.containerPort,
            hostPort: port.hostPort,
            hostIp: "127.0.0.1",
            ...(port.protocol === "http" ? { url: `http://127.0.0.1:${port.hostPort}` } : {}),
          })),
      })),
    )
    .sort((a, b) => a.name.localeCompare(b.name));
  const state: EnvironmentState =
    forced ??
    (services.length === 0
      ? "stopped"
      : services.some((service) => STUCK.has(service.state))
        ? "unhealthy"
        : services.every((service) => service.health === "healthy")
          ? "running"
          : "starting");
  const urls = Object.fromEntries(
    record.ports
      .filter((port) => port.protocol === "http")
      .map((port) => [port.name, `http://127.0.0.1:${port.hostPort}`]),
  );
  return {
    id: record.id,
    project: record.project,
    name: record.name,
    backend: record.backend,
    preset: record.preset,
    codeRoot: record.codeRoot,
    state,
    services,
    urls,
    createdAt: record.createdAt,
  };
}

function serviceNotFound(envId: string, service: string, pods: readonly PodInfo[]): ProdlikeError {
  const known = [...new Set(pods.flatMap((pod) => pod.containers.map((c) => c.name)))]
    .sort()
    .join(", ");
  return new ProdlikeError(
    "SERVICE_NOT_FOUND",
    `Environment ${envId} has no running service \`${service}\``,
    {
      hint: known ? `Its services: ${known}.` : "No pods are running: prodlike up.",
    },
  );
}

// Log lines of several containers, each prefixed with its container's name.
function prefixed(out: Writable, prefix: string): Writable {
  if (!prefix) return out;
  let pending = "";
  return new Writable({
    write(chunk: Buffer, _encoding: BufferEncoding, done: () => void) {
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) out.write(`${prefix} | ${line}\n`);
      done();
    },
    final(done: () => void) {
      if (pending) out.write(`${prefix} | ${pending}\n`);
      done();
    },
  });
}
