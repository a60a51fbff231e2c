import { createHash } from "node:crypto";
import type { V1Container, V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { now, recordEvent, resourceType, writeStatus } from "./objects.js";
import type { PodContext, PodRuntime } from "./runtime.js";
import type { KubeJson, Store } from "./store.js";

// The double's kubelet: starts a scheduled pod through the runtime once its claims are
// bound, reports its containers' states, restarts the ones that exit (with a back-off),
// marks readiness, writes the events a kubelet writes, and deletes pods gracefully
// (marked terminating while their containers stop).

const POD = resourceType("v1", "Pod");
const PVC = resourceType("v1", "PersistentVolumeClaim");
const CONFIG_MAP = resourceType("v1", "ConfigMap");
const SECRET = resourceType("v1", "Secret");
const SERVICE = resourceType("v1", "Service");

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

export class Kubelet {
  private readonly states = new Map<string, KubeletState>();
  private readonly terminations = new Set<Promise<unknown>>();

  constructor(
    private readonly store: Store,
    private readonly runtime: PodRuntime,
    private readonly hostPath: (nodePath: string) => string,
  ) {}

  /** Resolves once every pod being deleted is gone. */
  async settled(): Promise<void> {
    await Promise.all(this.terminations);
  }

  /** A pod deleted: its containers stop. */
  async podDeleted(pod: KubeJson): Promise<void> {
    this.states.delete(`${pod.metadata.namespace}/${pod.metadata.name}`);
    await this.runtime.stopPod(pod as unknown as V1Pod);
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

  /** One pass over a pod: start it once its claims are bound, then report it. */
  async run(object: KubeJson): Promise<void> {
    if (object.metadata.deletionTimestamp) return;
    const pod = object as unknown as V1Pod;
    const key = `${object.metadata.namespace}/${object.metadata.name}`;
    let state = this.states.get(key);
    if (!state) {
      state = { started: false, restarts: {}, nextRestart: {}, lastTerminated: {} };
      this.states.set(key, state);
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
        writeStatus(this.store, POD, object, {
          phase: "Pending",
          conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message }],
        });
        recordEvent(this.store, object, "Warning", "FailedScheduling", message);
        return;
      }
      state.started = true;
      await this.runtime.startPod(pod, this.podContext(object));
      for (const container of pod.spec?.containers ?? []) {
        recordEvent(
          this.store,
          object,
          "Normal",
          "Pulled",
          `Container image "${container.image}" already present on machine`,
        );
        recordEvent(this.store, object, "Normal", "Created", `Created container ${container.name}`);
        recordEvent(this.store, object, "Normal", "Started", `Started container ${container.name}`);
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
    writeStatus(this.store, POD, object, {
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
          recordEvent(
            this.store,
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
        recordEvent(
          this.store,
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
        if (live) recordEvent(this.store, live, type, reason, message);
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
}
