import { rm, stat } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { ClusterBackendName } from "../../config/backend-registry.js";
import type { EnvironmentRecord, EnvironmentRecords } from "../../env/environment-records.js";
import { environmentDir } from "../../env/generated-files.js";
import type { PortClaims } from "../../env/port-allocator.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import { podImages } from "../../kube/cluster-layout.js";
import type { CommandRunner } from "../../process/command-runner.js";
import type { ExternalRoutes } from "../../router/router-plan.js";
import { KubeLabel } from "../../topology/kube-labels.js";
import { Label } from "../../topology/labels.js";
import type { KubeObject, Topology } from "../../topology/model.js";
import type { Progress } from "../../ui/steps.js";
import type { Clock } from "../../waits/clock.js";
import {
  type Backend,
  type DestroyOptions,
  type DestroyReport,
  type EnvironmentStatus,
  type ExecRequest,
  environmentNotFound,
  type KeptRelease,
  type LogOptions,
  noPreviousRelease,
  type RunningState,
  type Seed,
  type SeedLayering,
  type ServeOptions,
  type ServiceLogLine,
  type ServiceUsage,
  type StreamExecRequest,
  type StreamExecResult,
  type UpOptions,
  type UpResult,
} from "../backend.js";
import type { RegistryCredentials } from "../docker/docker-credentials.js";
import type { DockerEngine } from "../docker/docker-engine.js";
import type { ImageClaims } from "../docker/image-claims.js";
import { deployToCluster, type ReleaseRun, releaseSteps } from "./cluster-deploy.js";
import {
  type ClusterDeployment,
  mirroredDeployment,
  presetDeployment,
} from "./cluster-deployment.js";
import type { ClusterParts } from "./cluster-parts.js";
import { INSTALL_HINTS } from "./cluster-provider.js";
import type { KubeApi } from "./kube-api.js";
import { statusOf } from "./kube-status.js";
import { usageFromWorkloads } from "./kube-usage.js";
import {
  execAttached,
  execCollected,
  findPod,
  followPodLogLines,
  type PodTarget,
  streamLogs,
} from "./pod-io.js";
import { waitForPodsGone, waitForReplacement } from "./pod-waits.js";

/** How long `down` waits for the pods to stop (their grace period is 30 s by default). */
const DOWN_TIMEOUT_MS = 90_000;
/** How often a session looks whether its environment is still recorded here. */
const SESSION_CHECK_MS = 10_000;

export interface KubeBackendDeps {
  name: ClusterBackendName;
  /** Lifecycle, image delivery, reachability and code placement (cluster-parts.ts). */
  parts: ClusterParts;
  /** The developer's registry login (docker's config), for an existing cluster's pulls. */
  credentials?: (host: string) => Promise<RegistryCredentials | undefined>;
  /** Runs git (`up --bake`). */
  runner: CommandRunner;
  /** Builds the preset images; kind and minikube's docker driver run on it too. */
  engine: DockerEngine;
  records: EnvironmentRecords;
  clock: Clock;
  connect(kubeconfig: string, context: string): Promise<KubeApi>;
  stdio?: { stdin: Readable; stdout: Writable; stderr: Writable };
  /** Images other `up`s on the engine are about to use (kept by a removal). */
  images?: ImageClaims;
}

const WORKLOAD_KINDS = [
  ["apps/v1", "Deployment"],
  ["apps/v1", "StatefulSet"],
  ["batch/v1", "CronJob"],
  ["batch/v1", "Job"],
] as const;

// The Kubernetes backends: kind and minikube (one local cluster per environment,
// `prodlike-<env>`) and an existing cluster (a namespace per environment). The topology
// rendered to Kubernetes objects (or production's own, for a mirror), applied with
// server-side apply, and waited for with kubectl's rollout rules. What differs between
// them is a combination of parts (cluster-parts.ts). Each job has its module: what to
// apply (cluster-deployment), applying it (cluster-deploy), waits (pod-waits), status
// (kube-status); this class wires them and does pod I/O.
export class KubeBackend implements Backend {
  constructor(private readonly deps: KubeBackendDeps) {}

  get name(): ClusterBackendName {
    return this.deps.name;
  }

  private get lifecycle() {
    return this.deps.parts.lifecycle;
  }

  async preflight(): Promise<void> {
    await this.deps.engine.ping();
    const tool = this.lifecycle.name;
    if ((await this.lifecycle.version()) === undefined) {
      throw new ProdlikeError("TOOL_MISSING", `${tool} is not installed`, {
        hint: `${INSTALL_HINTS[tool] ?? ""} \`prodlike doctor\` lists what this machine has.`,
      });
    }
  }

  // A cluster's volumes live on its node: `up --seed-from` copies the data in there.
  readonly layeredSeeds = false;

  // A cluster environment scaled to zero comes back through `up`, which knows its replicas.
  async start(): Promise<EnvironmentStatus> {
    throw new ProdlikeError("USAGE", `${this.name} environments wake with \`prodlike up\``, {
      hint: "`prodlike up` scales the environment back to its replicas and waits for them.",
    });
  }

  async seeds(): Promise<Seed[]> {
    return [];
  }

  async createSeed(): Promise<void> {
    throw seedsUnsupported(this.name);
  }

  async layerOnSeed(): Promise<SeedLayering> {
    return { layered: false, reason: `copy-on-write seeds are compose's; ${this.name} copies` };
  }

  async removeUnusedSeeds(): Promise<string[]> {
    return [];
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
    const context = {
      backend: this.name,
      code: this.deps.parts.code,
      nodePorts: this.deps.parts.reachability.nodePorts,
    };
    const { manifests, placement } = topology;
    if (!manifests) {
      if (this.deps.parts.code.kind === "node-mount")
        return this.deploy(presetDeployment(topology, context), progress, options);
      if (!placement) {
        throw new ProdlikeError("CONFIG_INVALID", `The ${this.name} backend needs \`cluster:\``, {
          hint: "Say which cluster in prodlike.yaml: `cluster: { context: CONTEXT, registry: HOST/PATH }` (docs/clusters.md).",
        });
      }
      const [{ prepareCodeImage, uncommittedFiles }, { splitRegistry }, { dockerConfigJson }] =
        await Promise.all([
          import("./code-image.js"),
          import("./registry-delivery.js"),
          import("../docker/docker-credentials.js"),
        ]);
      const host = placement.registry ? splitRegistry(placement.registry).host : undefined;
      const login = host ? await this.deps.credentials?.(host) : undefined;
      const codeImage = await prepareCodeImage(topology, placement, this.deps.runner);
      // `--bake` alone bakes the last commit, not the working tree: an edit not committed
      // yet would otherwise be missing from the environment without a word.
      if (placement.code.mode === "bake" && placement.code.ref === "HEAD") {
        const left = await uncommittedFiles(this.deps.runner, topology);
        if (left.length > 0)
          progress.warn(
            `--bake bakes the last commit (HEAD): ${left.length} uncommitted file(s) are not in it (${left.slice(0, 3).join(", ")}${left.length > 3 ? ", ..." : ""}). Commit them and run \`up --bake\` again to have them.`,
          );
      }
      return this.deploy(
        presetDeployment(topology, {
          ...context,
          codeImage,
          ...(host && login ? { pullSecret: dockerConfigJson(host, login) } : {}),
        }),
        progress,
        options,
      );
    }
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

  // A local node maps the ports and mounts the code: nothing to keep. On an existing
  // cluster: the port-forwards and the live sync, until the signal.
  async serve(envId: string, options: ServeOptions): Promise<boolean> {
    const record = await this.requireRecord(envId);
    const { reachability } = this.deps.parts;
    if (reachability.nodePorts) return false;
    if (options.replace) await reachability.close(envId);
    const api = await this.deps.connect(record.kubeconfig, record.context);
    const { runClusterSession } = await import("./session/cluster-session.js");
    // A session outlives nothing it serves: once the environment's record or its checkout
    // is gone (destroyed from another process, the folder deleted), it ends on its own
    // rather than forward and advertise the names of an environment that is no more.
    const ended = new AbortController();
    const stop = () => ended.abort();
    options.signal.addEventListener("abort", stop, { once: true });
    if (options.signal.aborted) stop();
    const watch = setInterval(() => {
      void this.stillServed(envId, record.codeRoot).then((served) => {
        if (served || ended.signal.aborted) return;
        options.onLine(`${envId} is no longer recorded here, or its checkout is gone: ending`);
        stop();
      });
    }, SESSION_CHECK_MS);
    watch.unref();
    try {
      await runClusterSession({
        api,
        record,
        clock: this.deps.clock,
        signal: ended.signal,
        onLine: options.onLine,
        onReady: options.onReady,
        routerAddress: () => reachability.routerAddress(),
      });
    } finally {
      clearInterval(watch);
      options.signal.removeEventListener("abort", stop);
    }
    return true;
  }

  private async stillServed(envId: string, codeRoot: string): Promise<boolean> {
    const [record, checkout] = await Promise.all([
      this.deps.records.get(envId).catch(() => undefined),
      stat(codeRoot).then(
        () => true,
        () => false,
      ),
    ]);
    return record?.backend === this.name && checkout;
  }

  async previousRelease(envId: string): Promise<KeptRelease | undefined> {
    const record = await this.requireRecord(envId);
    const { clusterReleases } = await import("./cluster-release.js");
    return clusterReleases(environmentDir(record.codeRoot, record.name)).kept();
  }

  // Back to the kept release's manifests, applied again (see cluster-release.ts: the
  // controllers do what `kubectl rollout undo` does); the release left becomes the kept
  // one, so a second rollback goes forward.
  async releases(envId: string): Promise<(KeptRelease & { id: string })[]> {
    const record = await this.requireRecord(envId);
    const { clusterReleases } = await import("./cluster-release.js");
    return clusterReleases(environmentDir(record.codeRoot, record.name)).list();
  }

  async rollback(
    envId: string,
    progress: Progress,
    options: { healthTimeoutMs: number; dataSnapshot?: string; to?: string },
  ): Promise<EnvironmentStatus> {
    const record = await this.requireRecord(envId);
    if (!(await this.lifecycle.exists(record))) {
      throw new ProdlikeError("ENV_NOT_FOUND", `The cluster of ${envId} is gone`, {
        hint: "`prodlike up` makes it again.",
      });
    }
    const { clusterReleases, releaseObjects } = await import("./cluster-release.js");
    const dir = environmentDir(record.codeRoot, record.name);
    const releases = clusterReleases(dir);
    // An `up` killed while it tried a release: going back means to the manifests that ran
    // before that attempt (they were set aside), and that is all a plain rollback does.
    const recovered = await releases.putBack();
    if (recovered && !options.to && !options.dataSnapshot) {
      const run: ReleaseRun = { deps: this.deps, record, api: undefined, options };
      await progress.run([
        {
          title: "Back on the release that ran before an interrupted `up`",
          children: releaseSteps(run, await releaseObjects(dir)),
        },
      ]);
      await this.deps.records.put({ ...record, configHash: recovered.configHash ?? "" });
      return this.requireStatus(envId);
    }
    if (options.to) await releases.promote(options.to);
    const swapped = await releases.swap({
      configHash: recovered?.configHash ?? record.configHash,
      ...(options.dataSnapshot ? { dataSnapshot: options.dataSnapshot } : {}),
    });
    if (!swapped) {
      throw noPreviousRelease(envId);
    }
    const run: ReleaseRun = { deps: this.deps, record, api: undefined, options };
    await progress.run([
      {
        title: "Switch to the previous release (its manifests; the volume claims kept)",
        children: releaseSteps(run, await releaseObjects(dir)),
      },
    ]);
    // The record says which release runs: the next `up` compares its hash.
    await this.deps.records.put({ ...record, configHash: swapped.info.configHash ?? "" });
    return this.requireStatus(envId);
  }

  async routeTargets(envId: string): Promise<ExternalRoutes | undefined> {
    const record = await this.deps.records.get(envId);
    return record ? this.deps.parts.reachability.routeTargets(record) : undefined;
  }

  /** The workloads as the environment's cluster runs them. */
  async running(envId: string): Promise<RunningState> {
    const record = await this.requireRecord(envId);
    if (!(await this.lifecycle.exists(record))) return { shape: "objects", objects: [] };
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
    const changed = await deployToCluster(
      {
        ...this.deps,
        isRunning: async (envId) => (await this.status(envId))?.state === "running",
      },
      plan,
      progress,
      options,
    );
    return { status: await this.requireStatus(plan.identity.id), changed };
  }

  // Scales every workload to zero and suspends CronJobs: the pods stop, the volume
  // claims (the database) stay, and `up` scales back by applying the manifests again.
  async down(envId: string, progress: Progress): Promise<EnvironmentStatus> {
    const record = await this.requireRecord(envId);
    await progress.run([
      {
        title: `Scale ${envId} to zero (data kept)`,
        run: async (context) => {
          await this.deps.parts.reachability.close(envId);
          if (!(await this.lifecycle.exists(record))) return;
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
          // The status after `down` is the pods', and deleted pods keep running through
          // their grace period: wait for them, so it says "stopped" when they are.
          const left = await waitForPodsGone(
            api,
            this.deps.clock,
            { namespace: record.namespace, selector },
            { timeoutMs: DOWN_TIMEOUT_MS, onDetail: (detail) => context.update(detail) },
          );
          if (left > 0) context.setTitle(`Scaled ${envId} to zero; ${left} pods still stopping`);
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
    const { engine, records } = this.deps;
    const { lifecycle } = this;
    const report: DestroyReport = {
      containers: [],
      volumes: [],
      networks: [],
      images: [],
      clusters: [record.cluster],
    };
    await progress.run([
      {
        title: `Delete ${lifecycle.describe(record)}`,
        run: async () => {
          await this.deps.parts.reachability.close(envId);
          if (await lifecycle.exists(record)) await lifecycle.delete(record);
        },
      },
      {
        title: options.keepImages
          ? "Keep images (--keep-images) but the code image"
          : "Remove images no other environment uses",
        run: async () => {
          const { isCodeImage } = await import("./code-image.js");
          const others = (await records.list()).filter((other) => other.id !== envId);
          const usedElsewhere = new Set(others.flatMap((other) => other.loadedImages));
          const containers = await engine.listContainers({});
          const inContainers = new Set(containers.flatMap((c) => [c.image, c.imageId]));
          const removal = await this.deps.images?.removing(envId);
          try {
            // Only what prodlike built for it: a mirror loads the user's own images. An
            // image goes with every tag prodlike gave it (the registry references it was
            // pushed under): one tag left would keep the image, and the preset image it
            // was built on, on the disk.
            const managed = await engine.listImages({ [Label.managed]: "true" });
            for (const tag of record.builtImages ?? record.loadedImages) {
              if (options.keepImages && !isCodeImage(tag)) continue;
              const image = managed.find((candidate) => candidate.tags.includes(tag));
              if (!image) continue;
              const names = [image.id, ...image.tags];
              if (
                names.some(
                  (name) =>
                    usedElsewhere.has(name) || inContainers.has(name) || removal?.inUse.has(name),
                )
              )
                continue;
              for (const name of image.tags) {
                if (await engine.removeImage(name)) report.images.push(name);
              }
              image.tags = [];
            }
          } finally {
            if (removal) await this.deps.images?.release(removal.claim);
          }
        },
      },
      {
        title: "Verify nothing is left",
        run: async () => {
          if (await lifecycle.exists(record)) {
            throw new ProdlikeError(
              "COMMAND_FAILED",
              `${lifecycle.describe(record)} is still there`,
              {
                hint: `Delete it by hand: ${lifecycle.manualDelete(record)}`,
              },
            );
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
    if (!(await this.lifecycle.exists(record))) return statusOf(record, [], "stopped");
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
    const target = await this.podFor(envId, request.service);
    return execAttached(target, request, this.deps.stdio);
  }

  async execStream(envId: string, request: StreamExecRequest): Promise<StreamExecResult> {
    return execCollected(await this.podFor(envId, request.service, request.selector), request);
  }

  async logs(envId: string, services: string[], options: LogOptions): Promise<number> {
    const record = await this.requireRecord(envId);
    const api = await this.deps.connect(record.kubeconfig, record.context);
    const out = this.deps.stdio?.stdout ?? process.stdout;
    await streamLogs(api, record, services, out, options);
    return 0;
  }

  async followLogLines(
    envId: string,
    services: string[],
    options: { tail: number; signal: AbortSignal },
    onLine: (line: ServiceLogLine) => void,
  ): Promise<void> {
    const record = await this.requireRecord(envId);
    const api = await this.deps.connect(record.kubeconfig, record.context);
    await followPodLogLines(api, record, services, options, onLine);
  }

  // Requests and limits, not live readings: the metrics API is not read yet.
  async usage(envId: string): Promise<ServiceUsage[]> {
    const running = await this.running(envId);
    return running.shape === "objects" ? usageFromWorkloads(running.objects) : [];
  }

  private async podFor(envId: string, service: string, selector?: string): Promise<PodTarget> {
    const record = await this.requireRecord(envId);
    return findPod(
      await this.deps.connect(record.kubeconfig, record.context),
      record,
      service,
      selector,
    );
  }

  // The pod goes; its StatefulSet or Deployment makes a new one on the same claim.
  async restartService(envId: string, service: string, timeoutMs: number): Promise<void> {
    const { record, api, pod } = await this.podFor(envId, service);
    await api.deletePod(record.namespace, pod.name);
    await waitForReplacement(
      api,
      this.deps.clock,
      {
        namespace: record.namespace,
        selector: `${KubeLabel.env}=${envId}`,
        service,
        oldPodUid: pod.uid,
      },
      timeoutMs,
    );
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

function seedsUnsupported(backend: string): ProdlikeError {
  return new ProdlikeError("USAGE", `${backend} keeps no copy-on-write seeds`, {
    hint: "`up --seed-from` copies the data into a cluster's database.",
  });
}
