import { createHash, randomBytes } from "node:crypto";
import type {
  V1Container,
  V1ContainerStatus,
  V1Deployment,
  V1Job,
  V1PersistentVolumeClaim,
  V1Pod,
  V1StatefulSet,
} from "@kubernetes/client-node";
import { typeOfKind } from "./resources.js";
import type { PodContext, PodRuntime } from "./runtime.js";
import type { KubeJson, Store } from "./store.js";

// The control loops of a one-node cluster, simplified but with the outcomes clients read:
// Deployments make ReplicaSets and pods (a new template rolls: new pods first, old ones
// go once the new are ready), StatefulSets make NAME-0 pods and their claims, Jobs run a
// pod to completion, claims bind to a volume the "provisioner" makes (volumeName, bind
// annotations, the protection finalizer), and a kubelet starts pods through a runtime,
// restarts crashed containers with a back-off, reports readiness and writes events.

const type = (apiVersion: string, kind: string) => {
  const found = typeOfKind(apiVersion, kind);
  if (!found) throw new Error(`no resource type ${apiVersion} ${kind}`);
  return found;
};
const POD = type("v1", "Pod");
const PVC = type("v1", "PersistentVolumeClaim");
const PV = type("v1", "PersistentVolume");
const EVENT = type("v1", "Event");
const DEPLOYMENT = type("apps/v1", "Deployment");
const REPLICA_SET = type("apps/v1", "ReplicaSet");
const STATEFUL_SET = type("apps/v1", "StatefulSet");
const JOB = type("batch/v1", "Job");
const CONFIG_MAP = type("v1", "ConfigMap");
const SECRET = type("v1", "Secret");
const SERVICE = type("v1", "Service");

/** How long a deleted pod shows as terminating at least (its containers are stopped
 *  meanwhile; a real kubelet gives them terminationGracePeriodSeconds). */
const TERMINATION_MS = 400;
/** First restart back-off; doubled per restart as the kubelet does (10 s there). */
const BACK_OFF_MS = 500;

interface KubeletState {
  started: boolean;
  restarts: Record<string, number>;
  nextRestart: Record<string, number>;
  lastTerminated: Record<string, V1ContainerStatus["lastState"]>;
}

export class ClusterLoops {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly kubelet = new Map<string, KubeletState>();
  /** When each Deployment's current template started rolling out (its progress deadline). */
  private readonly rollouts = new Map<string, { hash: string; since: number }>();
  private stopped = false;
  private readonly terminations = new Set<Promise<unknown>>();

  constructor(
    private readonly store: Store,
    private readonly runtime: PodRuntime,
    private readonly hostPath: (nodePath: string) => string,
  ) {}

  start(): void {
    const tick = async () => {
      if (this.stopped) return;
      this.running = true;
      try {
        await this.reconcile();
      } catch (error) {
        process.stderr.write(`kube-wire: control loop: ${String(error)}\n`);
      } finally {
        this.running = false;
        if (!this.stopped) this.timer = setTimeout(tick, 150);
      }
    };
    this.timer = setTimeout(tick, 50);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    while (this.running) await new Promise((resolve) => setTimeout(resolve, 20));
    await Promise.all(this.terminations);
  }

  /** A pod deleted through the API: its containers stop. */
  async podDeleted(pod: KubeJson): Promise<void> {
    this.kubelet.delete(`${pod.metadata.namespace}/${pod.metadata.name}`);
    await this.runtime.stopPod(pod as unknown as V1Pod);
  }

  async reconcile(): Promise<void> {
    this.bindClaims();
    for (const deployment of this.store.list(DEPLOYMENT)) this.deployment(deployment);
    for (const set of this.store.list(STATEFUL_SET)) this.statefulSet(set);
    for (const job of this.store.list(JOB)) this.job(job);
    for (const pod of this.store.list(POD)) await this.runPod(pod);
  }

  /** An event on an object, counted when it repeats (as the kubelet's recorder does). */
  event(object: KubeJson, type: "Normal" | "Warning", reason: string, message: string): void {
    const namespace = object.metadata.namespace ?? "default";
    const existing = this.store
      .list(EVENT, namespace)
      .find(
        (event) =>
          (event.involvedObject as { uid?: string }).uid === object.metadata.uid &&
          event.reason === reason &&
          event.message === message,
      );
    const time = now();
    if (existing) {
      this.store.update(EVENT, {
        ...existing,
        count: Number(existing.count ?? 1) + 1,
        lastTimestamp: time,
      });
      return;
    }
    this.store.create(EVENT, {
      metadata: { name: `${object.metadata.name}.${randomBytes(8).toString("hex")}`, namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata.name,
        namespace,
        uid: object.metadata.uid,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: time,
      lastTimestamp: time,
      source: {
        component: object.kind === "Pod" ? "kubelet" : `${object.kind?.toLowerCase()}-controller`,
      },
    });
  }

  private bindClaims(): void {
    for (const claim of this.store.list(PVC)) {
      const spec = (claim as unknown as V1PersistentVolumeClaim).spec ?? {};
      const phase = (claim.status as { phase?: string } | undefined)?.phase;
      if (spec.volumeName) {
        if (this.store.get(PV, "", spec.volumeName)) continue;
        // Bound once to a volume this cluster does not have (copied from elsewhere).
        const lost = claim.metadata.annotations?.["pv.kubernetes.io/bind-completed"] === "yes";
        const want = lost ? "Lost" : "Pending";
        if (phase !== want) {
          this.store.update(PVC, { ...claim, status: { phase: want } });
          if (lost)
            this.event(
              claim,
              "Warning",
              "ClaimLost",
              "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
            );
        }
        continue;
      }
      const volumeName = `pvc-${claim.metadata.uid}`;
      this.store.create(PV, {
        metadata: {
          name: volumeName,
          annotations: { "pv.kubernetes.io/provisioned-by": "rancher.io/local-path" },
        },
        spec: {
          capacity: { storage: spec.resources?.requests?.storage ?? "1Gi" },
          accessModes: spec.accessModes ?? ["ReadWriteOnce"],
          claimRef: {
            kind: "PersistentVolumeClaim",
            namespace: claim.metadata.namespace,
            name: claim.metadata.name,
            uid: claim.metadata.uid,
          },
          persistentVolumeReclaimPolicy: "Delete",
          storageClassName: spec.storageClassName ?? "standard",
          hostPath: { path: `/var/local-path-provisioner/${volumeName}` },
        },
        status: { phase: "Bound" },
      });
      this.store.update(PVC, {
        ...claim,
        metadata: {
          ...claim.metadata,
          annotations: {
            ...claim.metadata.annotations,
            "pv.kubernetes.io/bind-completed": "yes",
            "pv.kubernetes.io/bound-by-controller": "yes",
            "volume.beta.kubernetes.io/storage-provisioner": "rancher.io/local-path",
            "volume.kubernetes.io/storage-provisioner": "rancher.io/local-path",
          },
          finalizers: ["kubernetes.io/pvc-protection"],
        },
        spec: { ...spec, volumeName, storageClassName: spec.storageClassName ?? "standard" },
        status: {
          phase: "Bound",
          accessModes: spec.accessModes ?? ["ReadWriteOnce"],
          capacity: { storage: spec.resources?.requests?.storage ?? "1Gi" },
        },
      });
    }
  }

  private deployment(object: KubeJson): void {
    const deployment = object as unknown as V1Deployment;
    const name = object.metadata.name;
    const namespace = object.metadata.namespace ?? "default";
    const wanted = deployment.spec?.replicas ?? 1;
    const hash = templateHash(deployment.spec?.template);
    const owned = this.ownedPods(object);
    const active = owned.filter((pod) => !pod.metadata.deletionTimestamp);
    const current = active.filter((pod) => pod.metadata.labels?.["pod-template-hash"] === hash);
    const old = active.filter((pod) => pod.metadata.labels?.["pod-template-hash"] !== hash);
    // Recreate: every old pod gone (terminated too) before a new one starts.
    const recreate = deployment.spec?.strategy?.type === "Recreate";
    const oldLeft = owned.some((pod) => pod.metadata.labels?.["pod-template-hash"] !== hash);
    const replicaSet = `${name}-${hash}`;
    if (!this.store.get(REPLICA_SET, namespace, replicaSet) && wanted > 0) {
      this.store.create(REPLICA_SET, {
        metadata: {
          name: replicaSet,
          namespace,
          labels: { ...deployment.spec?.template.metadata?.labels, "pod-template-hash": hash },
          ownerReferences: [ownerRef(object)],
        },
        spec: {
          replicas: wanted,
          selector: deployment.spec?.selector,
          template: deployment.spec?.template,
        },
      });
    }
    if (recreate) for (const pod of old) this.deletePod(pod);
    for (let index = current.length; index < wanted && !(recreate && oldLeft); index += 1)
      this.createPod(object, `${replicaSet}-${randomBytes(3).toString("hex").slice(0, 5)}`, hash, {
        kind: "ReplicaSet",
        name: replicaSet,
      });
    for (const extra of current.slice(wanted)) this.deletePod(extra);
    const ready = current.filter(isReady).length;
    // Old pods go once the new template's are ready (maxUnavailable 0 for a local cluster).
    if (ready >= wanted) for (const pod of old) this.deletePod(pod);
    const live = this.ownedPods(object).filter((pod) => !pod.metadata.deletionTimestamp);
    const deadline = (deployment.spec?.progressDeadlineSeconds ?? 600) * 1000;
    const rollout = this.rollouts.get(object.metadata.uid ?? "");
    const since = rollout?.hash === hash ? rollout.since : Date.now();
    this.rollouts.set(object.metadata.uid ?? "", { hash, since });
    const complete = ready >= wanted && live.length === current.length;
    const inTime = Date.now() - since < deadline;
    const status = {
      observedGeneration: object.metadata.generation,
      replicas: live.length,
      updatedReplicas: current.length,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(wanted - ready > 0 ? { unavailableReplicas: wanted - ready } : {}),
      conditions: [
        {
          type: "Progressing",
          status: complete || inTime ? "True" : "False",
          reason: complete
            ? "NewReplicaSetAvailable"
            : inTime
              ? "ReplicaSetUpdated"
              : "ProgressDeadlineExceeded",
          message: `ReplicaSet "${replicaSet}" ${complete ? "has successfully progressed." : "is progressing."}`,
        },
        {
          type: "Available",
          status: ready >= wanted ? "True" : "False",
          reason: ready >= wanted ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
        },
      ],
    };
    this.writeStatus(DEPLOYMENT, object, status);
  }

  private statefulSet(object: KubeJson): void {
    const set = object as unknown as V1StatefulSet;
    const name = object.metadata.name;
    const namespace = object.metadata.namespace ?? "default";
    const wanted = set.spec?.replicas ?? 1;
    const revision = `${name}-${templateHash(set.spec?.template)}`;
    const pods = this.ownedPods(object);
    for (let ordinal = 0; ordinal < wanted; ordinal += 1) {
      for (const template of set.spec?.volumeClaimTemplates ?? []) {
        const claim = `${template.metadata?.name}-${name}-${ordinal}`;
        if (this.store.get(PVC, namespace, claim)) continue;
        this.store.create(PVC, {
          metadata: { name: claim, namespace, labels: set.spec?.selector?.matchLabels ?? {} },
          spec: { ...template.spec, volumeMode: "Filesystem" },
          status: { phase: "Pending" },
        });
      }
      const podName = `${name}-${ordinal}`;
      const pod = pods.find((candidate) => candidate.metadata.name === podName);
      if (!pod) {
        // OrderedReady: the next ordinal waits for the one before it.
        const before = pods.find(
          (candidate) => candidate.metadata.name === `${name}-${ordinal - 1}`,
        );
        if (ordinal === 0 || (before && isReady(before)))
          this.createPod(object, podName, revision, { kind: "StatefulSet", name }, ordinal);
        break;
      }
      if (pod.metadata.labels?.["controller-revision-hash"] !== revision) {
        this.deletePod(pod);
        break;
      }
    }
    for (const pod of pods) {
      const ordinal = Number(pod.metadata.name.slice(name.length + 1));
      if (ordinal >= wanted) this.deletePod(pod);
    }
    const live = this.ownedPods(object).filter((pod) => !pod.metadata.deletionTimestamp);
    const updated = live.filter(
      (pod) => pod.metadata.labels?.["controller-revision-hash"] === revision,
    );
    const ready = live.filter(isReady).length;
    const done = updated.length === wanted && live.length === wanted;
    this.writeStatus(STATEFUL_SET, object, {
      observedGeneration: object.metadata.generation,
      replicas: live.length,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas: done ? wanted : live.length - updated.length,
      updatedReplicas: updated.length,
      currentRevision: done
        ? revision
        : ((object.status as { currentRevision?: string } | undefined)?.currentRevision ??
          revision),
      updateRevision: revision,
      collisionCount: 0,
    });
  }

  private job(object: KubeJson): void {
    const job = object as unknown as V1Job;
    const name = object.metadata.name;
    const pods = this.ownedPods(object);
    if (pods.length === 0 && !(object.status as { succeeded?: number } | undefined)?.succeeded)
      this.createPod(
        object,
        `${name}-${randomBytes(3).toString("hex").slice(0, 5)}`,
        templateHash(job.spec?.template),
        { kind: "Job", name },
      );
    const phases = pods.map((pod) => (pod.status as { phase?: string } | undefined)?.phase);
    const succeeded = phases.filter((phase) => phase === "Succeeded").length;
    const failed = phases.filter((phase) => phase === "Failed").length;
    this.writeStatus(JOB, object, {
      ...(succeeded ? { succeeded } : {}),
      ...(failed ? { failed } : {}),
      active: phases.filter((phase) => phase === "Running" || phase === "Pending").length,
    });
  }

  private ownedPods(owner: KubeJson): KubeJson[] {
    const name = owner.metadata.name;
    return this.store.list(POD, owner.metadata.namespace).filter((pod) => {
      const ref = pod.metadata.ownerReferences?.[0];
      if (!ref) return false;
      if (owner.kind === "Deployment")
        return (
          ref.kind === "ReplicaSet" &&
          ref.name.startsWith(`${name}-`) &&
          pod.metadata.labels?.[OWNER_LABEL] === name
        );
      return ref.kind === owner.kind && ref.name === name;
    });
  }

  private createPod(
    owner: KubeJson,
    name: string,
    hash: string,
    ref: { kind: string; name: string },
    ordinal?: number,
  ): void {
    const template = (
      owner.spec as { template?: { metadata?: KubeJson["metadata"]; spec?: V1Pod["spec"] } }
    ).template;
    const namespace = owner.metadata.namespace ?? "default";
    const spec = structuredClone(template?.spec ?? { containers: [] });
    if (owner.kind === "StatefulSet") {
      // Each claim template becomes a volume of this ordinal's own claim.
      const claims = (owner as unknown as V1StatefulSet).spec?.volumeClaimTemplates ?? [];
      spec.volumes = [
        ...(spec.volumes ?? []),
        ...claims.map((claim) => ({
          name: claim.metadata?.name ?? "",
          persistentVolumeClaim: {
            claimName: `${claim.metadata?.name}-${owner.metadata.name}-${ordinal}`,
          },
        })),
      ];
      spec.hostname = name;
      const serviceName = (owner as unknown as V1StatefulSet).spec?.serviceName;
      if (serviceName) spec.subdomain = serviceName;
    }
    spec.restartPolicy ??= owner.kind === "Job" ? "Never" : "Always";
    spec.nodeName = "wire-node";
    const labels = {
      ...template?.metadata?.labels,
      ...(owner.kind === "Deployment" ? { "pod-template-hash": hash } : {}),
      ...(owner.kind === "StatefulSet"
        ? { "controller-revision-hash": hash, "statefulset.kubernetes.io/pod-name": name }
        : {}),
      ...(owner.kind === "Job" ? { "job-name": owner.metadata.name } : {}),
    };
    const pod = this.store.create(POD, {
      metadata: {
        name,
        namespace,
        labels:
          owner.kind === "Deployment" ? { ...labels, [OWNER_LABEL]: owner.metadata.name } : labels,
        ...(template?.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        ownerReferences: [{ ...ownerRef(owner), kind: ref.kind, name: ref.name }],
      },
      spec,
      status: {
        phase: "Pending",
        conditions: [{ type: "PodScheduled", status: "True" }],
        qosClass: "BestEffort",
      },
    });
    this.event(
      pod,
      "Normal",
      "Scheduled",
      `Successfully assigned ${namespace}/${name} to wire-node`,
    );
  }

  private deletePod(pod: KubeJson): void {
    this.terminate(pod);
  }

  /** Graceful deletion: the pod is marked (deletionTimestamp), its containers stop, then
   *  it goes; clients listing pods meanwhile see it terminating, as on a real cluster. */
  terminate(pod: KubeJson): KubeJson | undefined {
    const namespace = pod.metadata.namespace ?? "default";
    const live = this.store.get(POD, namespace, pod.metadata.name);
    if (!live) return undefined;
    if (live.metadata.deletionTimestamp) return live;
    const marked = this.store.update(POD, {
      ...live,
      metadata: {
        ...live.metadata,
        deletionTimestamp: now(),
        deletionGracePeriodSeconds: Number(
          (live.spec as { terminationGracePeriodSeconds?: number } | undefined)
            ?.terminationGracePeriodSeconds ?? 30,
        ),
      },
    });
    const stopping = Promise.all([
      this.podDeleted(live),
      new Promise((resolve) => setTimeout(resolve, TERMINATION_MS)),
    ]);
    this.terminations.add(stopping);
    void stopping.finally(() => {
      this.terminations.delete(stopping);
      const current = this.store.get(POD, namespace, live.metadata.name);
      if (current?.metadata.uid === live.metadata.uid)
        this.store.delete(POD, namespace, live.metadata.name);
    });
    return marked;
  }

  // The kubelet: start a scheduled pod once its claims are bound, then report its
  // containers, restart the ones that exit (with a back-off) and mark readiness.
  private async runPod(object: KubeJson): Promise<void> {
    if (object.metadata.deletionTimestamp) return;
    const pod = object as unknown as V1Pod;
    const key = `${object.metadata.namespace}/${object.metadata.name}`;
    let state = this.kubelet.get(key);
    if (!state) {
      state = { started: false, restarts: {}, nextRestart: {}, lastTerminated: {} };
      this.kubelet.set(key, state);
    }
    const namespace = object.metadata.namespace ?? "default";
    if (!state.started) {
      const unbound = (pod.spec?.volumes ?? [])
        .map((volume) => volume.persistentVolumeClaim?.claimName)
        .filter((claim): claim is string => claim !== undefined)
        .filter(
          (claim) =>
            (this.store.get(PVC, namespace, claim)?.status as { phase?: string } | undefined)
              ?.phase !== "Bound",
        );
      if (unbound.length > 0) {
        const message = `0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims (${unbound.join(", ")}). preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`;
        this.writeStatus(POD, object, {
          phase: "Pending",
          conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message }],
        });
        this.event(object, "Warning", "FailedScheduling", message);
        return;
      }
      state.started = true;
      await this.runtime.startPod(pod, this.podContext(object));
      for (const container of pod.spec?.containers ?? []) {
        this.event(
          object,
          "Normal",
          "Pulled",
          `Container image "${container.image}" already present on machine`,
        );
        this.event(object, "Normal", "Created", `Created container ${container.name}`);
        this.event(object, "Normal", "Started", `Started container ${container.name}`);
      }
    }
    const statuses: V1ContainerStatus[] = [];
    for (const container of pod.spec?.containers ?? [])
      statuses.push(await this.containerStatus(object, container, state));
    const allReady = statuses.length > 0 && statuses.every((status) => status.ready);
    const terminated = statuses
      .map((status) => status.state?.terminated)
      .filter((value) => value !== undefined);
    const phase =
      pod.spec?.restartPolicy !== "Always" &&
      terminated.length === statuses.length &&
      statuses.length > 0
        ? terminated.every((value) => value.exitCode === 0)
          ? "Succeeded"
          : "Failed"
        : statuses.some((status) => status.state?.running || status.lastState?.terminated)
          ? "Running"
          : "Pending";
    const readiness = allReady ? "True" : "False";
    this.writeStatus(POD, object, {
      phase,
      conditions: [
        { type: "Initialized", status: "True" },
        { type: "Ready", status: readiness, ...(allReady ? {} : { reason: "ContainersNotReady" }) },
        { type: "ContainersReady", status: readiness },
        { type: "PodScheduled", status: "True" },
      ],
      hostIP: "172.18.0.2",
      podIP: await this.runtime.podIP(pod),
      startTime: object.metadata.creationTimestamp,
      containerStatuses: statuses,
      qosClass: "BestEffort",
    });
  }

  private async containerStatus(
    object: KubeJson,
    container: V1Container,
    state: KubeletState,
  ): Promise<V1ContainerStatus> {
    const pod = object as unknown as V1Pod;
    const name = container.name;
    const current = await this.runtime.containerState(pod, container);
    const restarts = state.restarts[name] ?? 0;
    const base = {
      name,
      image: container.image ?? "",
      imageID: `docker.io/library/${container.image}@sha256:${createHash("sha256")
        .update(container.image ?? "")
        .digest("hex")}`,
      restartCount: restarts,
      ...(state.lastTerminated[name] ? { lastState: state.lastTerminated[name] } : {}),
    };
    if (current.state === "terminated" && pod.spec?.restartPolicy === "Always") {
      const due = state.nextRestart[name];
      if (due === undefined) {
        state.lastTerminated[name] = {
          terminated: {
            exitCode: current.exitCode,
            reason: current.reason,
            startedAt: current.startedAt,
            finishedAt: current.finishedAt,
          },
        } as unknown as V1ContainerStatus["lastState"];
        state.nextRestart[name] = Date.now() + BACK_OFF_MS * 2 ** Math.min(restarts, 5);
        if (restarts > 0)
          this.event(
            object,
            "Warning",
            "BackOff",
            `Back-off restarting failed container ${name} in pod ${object.metadata.name}`,
          );
      } else if (Date.now() >= due) {
        delete state.nextRestart[name];
        state.restarts[name] = restarts + 1;
        await this.runtime.restartContainer(pod, container);
      }
      const waiting = restarts > 0 ? "CrashLoopBackOff" : "Error";
      return {
        ...base,
        ...(state.lastTerminated[name] ? { lastState: state.lastTerminated[name] } : {}),
        ready: false,
        started: false,
        state:
          waiting === "CrashLoopBackOff"
            ? {
                waiting: {
                  reason: waiting,
                  message: `back-off restarting failed container=${name} pod=${object.metadata.name}`,
                },
              }
            : { terminated: { exitCode: current.exitCode, reason: current.reason } },
      } as V1ContainerStatus;
    }
    if (current.state === "waiting") {
      if (current.reason === "ErrImagePull" || current.reason === "ImagePullBackOff")
        this.event(
          object,
          "Warning",
          "Failed",
          `Failed to pull image "${container.image}": ${current.message ?? "not found"}`,
        );
      return {
        ...base,
        ready: false,
        started: false,
        state: {
          waiting: {
            reason: current.reason,
            ...(current.message ? { message: current.message } : {}),
          },
        },
      } as V1ContainerStatus;
    }
    if (current.state === "terminated")
      return {
        ...base,
        ready: false,
        started: false,
        state: { terminated: { exitCode: current.exitCode, reason: current.reason } },
      } as V1ContainerStatus;
    const ready = await this.runtime.ready(pod, container);
    return {
      ...base,
      ready,
      started: true,
      state: { running: { startedAt: current.startedAt } },
    } as unknown as V1ContainerStatus;
  }

  private podContext(pod: KubeJson): PodContext {
    const namespace = pod.metadata.namespace ?? "default";
    const aliases = this.store
      .list(SERVICE, namespace)
      .filter((service) => {
        const selector = (service.spec as { selector?: Record<string, string> } | undefined)
          ?.selector;
        return (
          selector !== undefined &&
          Object.keys(selector).length > 0 &&
          Object.entries(selector).every(([key, value]) => pod.metadata.labels?.[key] === value)
        );
      })
      .map((service) => service.metadata.name);
    const spec = pod.spec as { hostname?: string; subdomain?: string } | undefined;
    if (spec?.hostname && spec.subdomain) aliases.push(`${spec.hostname}.${spec.subdomain}`);
    return {
      aliases,
      event: (type, reason, message) => {
        const live = this.store.get(POD, namespace, pod.metadata.name);
        if (live) this.event(live, type, reason, message);
      },
      configMap: (name) =>
        this.store.get(CONFIG_MAP, namespace, name)?.data as Record<string, string> | undefined,
      secret: (name) => {
        const secret = this.store.get(SECRET, namespace, name);
        if (!secret) return undefined;
        const decoded: Record<string, string> = {};
        for (const [key, value] of Object.entries(
          (secret.data as Record<string, string> | undefined) ?? {},
        ))
          decoded[key] = Buffer.from(value, "base64").toString("utf8");
        return { ...decoded, ...((secret.stringData as Record<string, string> | undefined) ?? {}) };
      },
      hostPath: this.hostPath,
    };
  }

  private writeStatus(
    resource: typeof POD,
    object: KubeJson,
    status: Record<string, unknown>,
  ): void {
    const live = this.store.get(resource, object.metadata.namespace ?? "", object.metadata.name);
    if (!live) return;
    const previous = live.status as Record<string, unknown> | undefined;
    if (JSON.stringify(previous) === JSON.stringify({ ...previous, ...status })) return;
    this.store.update(resource, { ...live, status: { ...previous, ...status } });
  }
}

/** The label the double puts on a Deployment's pods to find them again (the real
 *  controller goes through the ReplicaSet's uid). */
const OWNER_LABEL = "wire.test/deployment";

function ownerRef(owner: KubeJson) {
  return {
    apiVersion: owner.apiVersion ?? "v1",
    kind: owner.kind ?? "",
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

function templateHash(template: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify(template ?? {}))
    .digest("hex")
    .slice(0, 10);
}

function isReady(pod: KubeJson): boolean {
  const conditions = (pod.status as { conditions?: { type: string; status: string }[] } | undefined)
    ?.conditions;
  return (
    conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") ??
    false
  );
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}
