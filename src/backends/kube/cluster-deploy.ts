import path from "node:path";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { ClusterBackendName } from "../../config/backend-registry.js";
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
import { isProdlikeError, ProdlikeError } from "../../errors/prodlike-error.js";
import type { Progress, Step, StepContext } from "../../ui/steps.js";
import type { Clock } from "../../waits/clock.js";
import type { UpOptions } from "../backend.js";
import type { DockerEngine } from "../docker/docker-engine.js";
import { keptDataSteps, type ReleaseFiles, rollBackAfter } from "../release-files.js";
import { waitForWebUrl } from "../web-wait.js";
import type { ClusterDeployment } from "./cluster-deployment.js";
import type { ClusterParts } from "./cluster-parts.js";
import type { ClusterLocation, ClusterSpec } from "./cluster-provider.js";
import { clusterReleases, MANIFESTS_FILE, releaseObjects } from "./cluster-release.js";
import { manifestsYaml, withDeliveredImages } from "./image-delivery.js";
import type { KubeApi } from "./kube-api.js";
import { PULL_SECRET_NAME } from "./placement-objects.js";
import { waitForRollout } from "./pod-waits.js";

// `up` on kind / minikube, for a preset's rendering or production's own objects alike:
// record the environment, make the cluster (ports and the code mount are fixed then),
// load images, apply with server-side apply, wait for rollouts and the web URL. A
// brand-new cluster that fails is deleted again; an existing one is left as it was.

export interface ClusterDeployDeps {
  name: ClusterBackendName;
  parts: ClusterParts;
  engine: DockerEngine;
  records: EnvironmentRecords;
  clock: Clock;
  connect(kubeconfig: string, context: string): Promise<KubeApi>;
  /** Whether the environment runs healthy now (nothing to do when unchanged). */
  isRunning(envId: string): Promise<boolean>;
}

/** Resolves whether anything changed. */
export async function deployToCluster(
  deps: ClusterDeployDeps,
  plan: ClusterDeployment,
  progress: Progress,
  options: UpOptions,
): Promise<boolean> {
  const { records } = deps;
  const { lifecycle } = deps.parts;
  const envId = plan.identity.id;
  const dir = environmentDir(plan.codeRoot, plan.identity.name);
  const location = plan.placement
    ? {
        cluster: plan.placement.context,
        kubeconfig: plan.placement.kubeconfig,
        context: plan.placement.context,
        namespace: plan.namespace,
      }
    : lifecycle.locate(envId, dir, plan.namespace);
  const cluster = location.cluster;
  const previous = await records.get(envId);
  const existed = await lifecycle.exists(location);
  const record = newRecord(plan, deps.name, {
    location,
    previous: existed ? previous : undefined,
  });

  // Host ports are not in the manifests (the cluster maps them), so check them first.
  if (existed && previous && !samePorts(previous.ports, record.ports)) {
    throw new ProdlikeError(
      "NOT_SUPPORTED",
      `The ports of cluster ${cluster} were fixed when it was made`,
      {
        hint: `Published ports changed (${describePorts(previous.ports)} -> ${describePorts(record.ports)}). Run \`prodlike destroy --backend ${deps.name}\`, then up again.`,
      },
    );
  }

  if (existed && previous && !options.rebuild && previous.configHash === plan.configHash) {
    if (await deps.isRunning(envId)) {
      await plan.writeFiles(progress);
      return false;
    }
  }
  // An existing cluster's manifests are set aside while the new ones are tried, and
  // kept as the previous release only once they rolled out: a release that does not
  // roll out is applied back, and leaves every kept release as it was. An `up` killed
  // mid-attempt left the manifests that ran before it set aside: they are put back first.
  const releases = clusterReleases(dir, options.keepReleases);
  await releases.putBack();
  const kept =
    existed && previous && options.keepRelease !== false
      ? await releases.begin({ configHash: previous.configHash })
      : undefined;
  // Every pod template carries the configuration's hash, so a release replaces the
  // database's pod too: its kept data is prepared in the new pod, once it runs.
  const keptData =
    kept && options.beforeSwitch
      ? keptDataSteps(releases, options.beforeSwitch, progress, { prepareAfterStart: true })
      : undefined;
  let switched = false;
  const run: DeployRun = {
    deps,
    plan,
    options,
    record,
    previous: existed ? previous : undefined,
    existed,
    dir,
    spec: {
      ...location,
      codeRoot: plan.codeRoot,
      portMappings: record.ports.map(({ hostPort, nodePort }) => ({ hostPort, nodePort })),
      workDir: dir,
      labels: plan.namespaceLabels,
      annotations: plan.namespaceAnnotations,
      ...(plan.placement?.registry ? { registry: plan.placement.registry } : {}),
    },
    api: undefined,
    applied: { objects: plan.objects, yaml: plan.yaml },
  };
  try {
    await progress.run([
      ...(await imageStep(run)),
      clusterStep(run),
      ...(plan.pullSecret ? [pullSecretStep(run, plan.pullSecret)] : []),
      loadStep(run),
      ...(keptData ? [keptData.before] : []),
      {
        title: "Write configuration",
        run: async () => {
          switched = true;
          await writeIfChanged(path.join(dir, MANIFESTS_FILE), run.applied.yaml, 0o600);
          await plan.writeFiles(progress);
        },
      },
      ...releaseSteps(run, plan.objects, () => run.applied.objects),
      reachStep(run),
      ...(plan.webUrl
        ? [httpStep(deps, plan.webUrl, plan.webLogServices, options.healthTimeoutMs)]
        : []),
      ...(keptData ? [keptData.after] : []),
    ]);
  } catch (error) {
    if (keptData) await settleWithin(keptData, progress);
    if (!existed && isProdlikeError(error) && error.code === "NAMESPACE_FOREIGN") {
      // Refused before anything was made: no record either, or it would hold its images
      // and name a namespace that destroy (rightly) never deletes.
      await records.delete(run.record.id).catch(() => undefined);
    } else if (!existed) {
      // A brand-new cluster that failed stays for diagnosis (its pods' logs and events
      // say why; core removes it with --rm-on-failure). Its record says nothing rolled
      // out, so the next `up` applies again.
      await records.put({ ...run.record, configHash: "" }).catch(() => undefined);
    } else if (kept && switched && previous) {
      await rollBack(run, releases, previous, progress, error);
    }
    await releases.abandon();
    throw error;
  }
  await releases.commit();
  await records.put(record);
  return true;
}

/** How long a failed release waits for its kept data's preparation before rolling back. */
const SETTLE_TIMEOUT_MS = 120_000;

// The preparation runs in the database's pod; a rollback that does not wait could replace
// that pod under it. It gets a time limit: a rollback never waits for ever.
async function settleWithin(
  keptData: { settle: () => Promise<void> },
  progress: Progress,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    keptData.settle().then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), SETTLE_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!settled)
    progress.warn(
      `The kept data's preparation did not end within ${SETTLE_TIMEOUT_MS / 1000} s: rolling back without it (\`rollback --data\` unpacks the snapshot instead).`,
    );
}

/** One deploy's state, shared by its steps. */
interface DeployRun {
  deps: ClusterDeployDeps;
  plan: ClusterDeployment;
  options: UpOptions;
  record: EnvironmentRecord;
  /** The record of the cluster as it exists, if it does. */
  previous: EnvironmentRecord | undefined;
  existed: boolean;
  dir: string;
  spec: ClusterSpec;
  /** Connected by the apply step, used by the waits after it. */
  api: KubeApi | undefined;
  /** The objects as applied: images named as the delivery step delivered them. */
  applied: { objects: KubernetesObject[]; yaml: string };
}

async function imageStep(run: DeployRun): Promise<Step[]> {
  if (run.plan.build.length === 0) return [];
  const { imageSteps } = await import("../docker/image-builder.js");
  const { codeImage } = run.plan;
  return [
    {
      title: "Images",
      children: [
        ...imageSteps(run.deps.engine, run.plan.build, {
          rebuild: run.options.rebuild,
          preset: run.plan.preset,
        }),
        ...(codeImage
          ? [
              {
                title: `Code image ${codeImage.tag}`,
                run: async (context: StepContext) => {
                  const { buildCodeImage } = await import("./code-image.js");
                  const done = await buildCodeImage(run.deps.engine, codeImage, run.plan.preset);
                  context.setTitle(`${codeImage.tag} (${done})`);
                },
              },
            ]
          : []),
      ],
    },
  ];
}

function clusterStep(run: DeployRun): Step {
  const { records } = run.deps;
  const { lifecycle } = run.deps.parts;
  const what = lifecycle.describe(run.spec);
  return {
    title: run.existed ? `${what} (exists)` : `Create ${what}`,
    run: async () => {
      await prepareEnvironmentDir(run.plan.codeRoot, run.plan.identity.name);
      if (run.existed) {
        await lifecycle.adopt(run.spec);
        return;
      }
      // Recorded before it exists: a failed or interrupted create is still found and
      // removed by `destroy`.
      await records.put({ ...run.record, loadedImages: [] });
      await lifecycle.create(run.spec);
    },
  };
}

// The developer's registry login, so the cluster pulls what was pushed: a Secret in the
// environment's namespace only, applied apart from the manifests (never on disk).
function pullSecretStep(run: DeployRun, dockerConfigJson: string): Step {
  return {
    title: "Registry pull secret",
    run: async () => {
      const api = await run.deps.connect(run.record.kubeconfig, run.record.context);
      await api.apply({
        apiVersion: "v1",
        kind: "Secret",
        metadata: {
          name: PULL_SECRET_NAME,
          namespace: run.record.namespace,
          labels: run.plan.namespaceLabels,
        },
        type: "kubernetes.io/dockerconfigjson",
        stringData: { ".dockerconfigjson": dockerConfigJson },
      } as KubernetesObject);
    },
  };
}

// The ports answer on this machine from here on (an existing cluster's port-forwards
// start); the session reads the environment's record, so it is written first.
function reachStep(run: DeployRun): Step {
  const { reachability } = run.deps.parts;
  return {
    title: reachability.nodePorts ? "Ports mapped by the node" : "Port-forwards and live sync",
    run: async () => {
      if (reachability.nodePorts) return;
      await run.deps.records.put({ ...run.record, configHash: run.previous?.configHash ?? "" });
      await reachability.open(run.record);
    },
  };
}

function loadStep(run: DeployRun): Step {
  const { delivery } = run.deps.parts;
  return {
    title:
      delivery.name === "registry" ? "Push images to the registry" : "Load images into the node",
    run: async (context) => {
      const delivered = new Set(run.previous?.loadedImages ?? []);
      if (run.plan.load.length === 0) {
        context.setTitle("No local images to deliver");
        return;
      }
      const { references, sent } = await delivery.deliver(
        run.spec,
        run.plan.load,
        delivered,
        (detail) => context.update(detail),
      );
      const objects = withDeliveredImages(run.plan.objects, references);
      run.applied = {
        objects,
        yaml: Object.entries(references).every(([tag, reference]) => tag === reference)
          ? run.plan.yaml
          : manifestsYaml(run.plan.yaml, objects),
      };
      if (sent.length === 0) {
        context.setTitle(
          delivery.name === "registry"
            ? "Images already in the registry"
            : "Images already in the node",
        );
        return;
      }
      run.record.loadedImages = [...new Set([...delivered, ...sent])].sort();
      await run.deps.records.put({ ...run.record, configHash: run.previous?.configHash ?? "" });
    },
  };
}

/** What applying a release needs: the cluster's record, and the client once connected. */
export interface ReleaseRun {
  deps: Pick<ClusterDeployDeps, "connect" | "clock" | "name">;
  record: EnvironmentRecord;
  options: { healthTimeoutMs: number };
  api: KubeApi | undefined;
}

/** Applies a release's objects and waits for its workloads to roll out; `applied`: the
 *  objects as applied when they are known only once an earlier step ran (delivery). */
export function releaseSteps(
  run: ReleaseRun,
  objects: readonly KubernetesObject[],
  applied: () => readonly KubernetesObject[] = () => objects,
): Step[] {
  const { namespace } = run.record;
  return [
    applyStep(run, applied, namespace),
    {
      title: "Wait for rollouts",
      concurrent: true,
      children: rolloutSteps(
        run.deps,
        objects,
        namespace,
        () => run.api,
        run.options.healthTimeoutMs,
      ),
    },
  ];
}

// The new release did not roll out: the kept manifests applied again on the same volume
// claims, waited for, the record back to that release, and said with its own exit code.
async function rollBack(
  run: DeployRun,
  releases: ReleaseFiles,
  previous: EnvironmentRecord,
  progress: Progress,
  failure: unknown,
): Promise<never> {
  return rollBackAfter(
    run.plan.identity.id,
    failure,
    async () => {
      const objects = await releaseObjects(releases.incoming);
      await releases.putBack();
      await progress.run([
        {
          title: "Roll back to the release that ran before (its manifests; the volume claims kept)",
          children: releaseSteps(run, objects),
        },
      ]);
      await run.deps.records.put({ ...run.record, configHash: previous.configHash });
    },
    "did not roll out",
  );
}

function applyStep(
  run: ReleaseRun,
  applied: () => readonly KubernetesObject[],
  namespace: string,
): Step {
  return {
    title: `Apply ${applied().length} objects (server-side apply)`,
    run: async () => {
      const objects = applied();
      const api = await run.deps.connect(run.record.kubeconfig, run.record.context);
      run.api = api;
      for (const object of objects) {
        // A Job's template cannot change once it exists: one that ran stays as it ran.
        const name = object.metadata?.name ?? "";
        if (
          object.kind === "Job" &&
          (await api.read(object.apiVersion ?? "", "Job", namespace, name))
        )
          continue;
        await api.apply(resumed(object));
      }
    },
  };
}

function rolloutSteps(
  deps: ReleaseRun["deps"],
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
        await waitForRollout(client, deps.clock, namespace, workload, {
          timeoutMs,
          onDetail: (detail) => context.update(detail),
          logsHint: `More: prodlike logs --backend ${deps.name}`,
        });
        context.setTitle(`${workload.kind} ${name} rolled out`);
      },
    };
  });
}

function httpStep(
  deps: ClusterDeployDeps,
  url: string,
  logServices: string[],
  timeoutMs: number,
): Step {
  return {
    title: `Wait for ${url}`,
    run: async (context) => {
      await waitForWebUrl(url, deps.clock, {
        timeoutMs,
        intervalMs: 100,
        onDetail: (detail) => context.update(detail),
        logsArgs: ["--backend", deps.name, ...logServices],
      });
      context.setTitle(`web answers on ${new URL(url).origin}`);
    },
  };
}

function newRecord(
  plan: ClusterDeployment,
  backend: ClusterBackendName,
  parts: { location: ClusterLocation; previous: EnvironmentRecord | undefined },
): EnvironmentRecord {
  return {
    id: plan.identity.id,
    project: plan.identity.project,
    name: plan.identity.name,
    backend,
    preset: plan.preset,
    codeRoot: plan.codeRoot,
    ...parts.location,
    ports: plan.ports,
    routes: plan.routes,
    loadedImages: parts.previous?.loadedImages ?? [],
    builtImages: [...new Set([...(parts.previous?.builtImages ?? []), ...plan.owned])].sort(),
    configHash: plan.configHash,
    createdAt: parts.previous?.createdAt ?? new Date().toISOString(),
    ...(plan.sync ? { sync: plan.sync } : {}),
  };
}

// `down` suspends CronJobs with a patch, and an apply that leaves `suspend` out does not
// take back a field another operation set: stating `false` does, so `up` resumes them.
function resumed(object: KubernetesObject): KubernetesObject {
  const spec = (object as { spec?: { suspend?: boolean } }).spec;
  if (object.kind !== "CronJob" || !spec || spec.suspend !== undefined) return object;
  return { ...object, spec: { ...spec, suspend: false } } as KubernetesObject;
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
