import { type Duplex, PassThrough, type Writable } from "node:stream";
import type {
  CoreV1Event,
  KubeConfig,
  KubernetesObject,
  V1Deployment,
  V1Pod,
  V1StatefulSet,
} from "@kubernetes/client-node";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import { FIELD_MANAGER } from "../../topology/kube-labels.js";
import { type ExecStreams, negotiatedProtocol, runExec } from "./exec-session.js";

// The Kubernetes API as the backend uses it, through @kubernetes/client-node (loaded on
// first use: it is large, and compose users never need it).

export type WorkloadKind = "Deployment" | "StatefulSet" | "CronJob";

export interface PodInfo {
  name: string;
  uid: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Deleted, its containers stopping (within the grace period). */
  terminating: boolean;
  /** Why the scheduler has not placed it (Pending), in its words. */
  unschedulable?: string;
  phase: string;
  containers: { name: string; ready: boolean; state: string; restarts: number }[];
}

export type { ExecStreams };

export interface KubeApi {
  /** Server-side apply, field manager `prodlike`, taking over conflicting fields. */
  apply(object: KubernetesObject): Promise<void>;
  read<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<T | undefined>;
  list(
    apiVersion: string,
    kind: string,
    namespace: string,
    labelSelector: string,
  ): Promise<KubernetesObject[]>;
  listPods(namespace: string, labelSelector: string): Promise<PodInfo[]>;
  /** The events about one object (a pod), oldest first. */
  events(namespace: string, involvedName: string): Promise<PodEvent[]>;
  deletePod(namespace: string, name: string): Promise<void>;
  /** Joins a TCP connection to a pod's port through the API server; resolves once the
   *  forward is open, `socket` ends when the pod's side does. */
  portForward(namespace: string, pod: string, port: number, socket: Duplex): Promise<void>;
  /** Deletes any object (an existing cluster's namespace); false when it was not there. */
  remove(apiVersion: string, kind: string, namespace: string, name: string): Promise<boolean>;
  /** Whether the API lets this user do VERB on RESOURCE (SelfSubjectAccessReview). */
  canI(check: AccessCheck): Promise<{ allowed: boolean; reason?: string }>;
  /** Merge patch (replicas for `down`, suspend for CronJobs). */
  mergePatch(object: KubernetesObject, patch: Record<string, unknown>): Promise<void>;
  exec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    streams: ExecStreams,
  ): Promise<number>;
  logs(
    namespace: string,
    pod: string,
    container: string,
    out: Writable,
    options: { follow: boolean; tail: number; previous?: boolean },
  ): Promise<void>;
}

export interface AccessCheck {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** Empty for cluster-scoped resources. */
  namespace: string;
}

export interface PodEvent {
  type: string;
  reason: string;
  message: string;
  count: number;
}

/** The part of client-node's KubernetesObjectApi this module calls; unit tests stub it. */
export interface ObjectClient {
  patch<T extends KubernetesObject>(
    spec: T,
    pretty?: string,
    dryRun?: string,
    fieldManager?: string,
    force?: boolean,
    patchStrategy?: string,
  ): Promise<T>;
  read<T extends KubernetesObject>(spec: KubernetesObject): Promise<T>;
  delete(spec: KubernetesObject): Promise<unknown>;
  list(
    apiVersion: string,
    kind: string,
    namespace?: string,
    pretty?: string,
    exact?: boolean,
    exportt?: boolean,
    fieldSelector?: string,
    labelSelector?: string,
  ): Promise<{ items: KubernetesObject[] }>;
}

const SERVER_SIDE_APPLY = "application/apply-patch+yaml";
const MERGE_PATCH = "application/merge-patch+json";

// Applies and reads objects; exec and logs go through the loaded client-node module.
export class ClientNodeKubeApi implements KubeApi {
  private execProtocol: Promise<string> | undefined;

  constructor(
    private readonly objects: ObjectClient,
    private readonly streaming?: {
      config: KubeConfig;
      module: typeof import("@kubernetes/client-node");
    },
  ) {}

  /** A read/list client for a context of a kubeconfig (mirror reads production with it). */
  static async objectClient(kubeconfig: string, context: string): Promise<ObjectClient> {
    return (await loadContext(kubeconfig, context)).objects;
  }

  /** Connects with the given kubeconfig file and context. */
  static async connect(kubeconfig: string, context: string): Promise<ClientNodeKubeApi> {
    const { objects, config, module } = await loadContext(kubeconfig, context);
    return new ClientNodeKubeApi(objects, { config, module });
  }

  async apply(object: KubernetesObject): Promise<void> {
    // SSA: the API server merges field by field and records prodlike as the owner, so a
    // re-apply is a no-op and fields other tools own survive. `force` takes over fields a
    // human changed with kubectl edit: the rendered topology is the desired state.
    await this.objects.patch(object, undefined, undefined, FIELD_MANAGER, true, SERVER_SIDE_APPLY);
  }

  async read<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<T | undefined> {
    try {
      return await this.objects.read<T>({ apiVersion, kind, metadata: { name, namespace } });
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  async list(
    apiVersion: string,
    kind: string,
    namespace: string,
    labelSelector: string,
  ): Promise<KubernetesObject[]> {
    const result = await this.objects.list(
      apiVersion,
      kind,
      namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      labelSelector,
    );
    // List items come without apiVersion and kind; put them back so an item can be
    // patched or read again as it is.
    return result.items.map((item) => ({ ...item, apiVersion, kind }));
  }

  async listPods(namespace: string, labelSelector: string): Promise<PodInfo[]> {
    const pods = (await this.list("v1", "Pod", namespace, labelSelector)) as V1Pod[];
    return pods.map(podInfo);
  }

  async events(namespace: string, involvedName: string): Promise<PodEvent[]> {
    const result = await this.objects.list(
      "v1",
      "Event",
      namespace,
      undefined,
      undefined,
      undefined,
      `involvedObject.name=${involvedName}`,
    );
    return (result.items as CoreV1Event[])
      .sort((a, b) => timeOf(a) - timeOf(b))
      .map((event) => ({
        type: event.type ?? "Normal",
        reason: event.reason ?? "",
        message: event.message ?? "",
        count: event.count ?? 1,
      }));
  }

  async deletePod(namespace: string, name: string): Promise<void> {
    await this.objects.delete({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace } });
  }

  // client-node writes what the pod sends into `socket` and sends what `socket` reads; a
  // websocket per connection, as kubectl opens a stream pair per connection.
  async portForward(namespace: string, pod: string, port: number, socket: Duplex): Promise<void> {
    const { config, module } = this.requireStreaming();
    const forward = new module.PortForward(config, true);
    const opened = await forward.portForward(namespace, pod, [port], socket, null, socket);
    const ws = typeof opened === "function" ? opened() : opened;
    if (!ws) throw new ProdlikeError("COMMAND_FAILED", `No port-forward to ${pod}:${port}`);
    ws.on("close", () => socket.end());
    ws.on("error", () => socket.destroy());
    socket.on("close", () => ws.close());
  }

  async remove(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<boolean> {
    try {
      await this.objects.delete({
        apiVersion,
        kind,
        metadata: { name, ...(namespace ? { namespace } : {}) },
      });
      return true;
    } catch (error) {
      if (statusCode(error) === 404) return false;
      throw error;
    }
  }

  async canI(check: AccessCheck): Promise<{ allowed: boolean; reason?: string }> {
    const { config, module } = this.requireStreaming();
    const review = await config
      .makeApiClient(module.AuthorizationV1Api)
      .createSelfSubjectAccessReview({
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SelfSubjectAccessReview",
          spec: {
            resourceAttributes: {
              verb: check.verb,
              group: check.group,
              resource: check.resource,
              ...(check.subresource ? { subresource: check.subresource } : {}),
              ...(check.namespace ? { namespace: check.namespace } : {}),
            },
          },
        },
      });
    const status = review.status;
    return {
      allowed: status?.allowed === true,
      ...(status?.reason ? { reason: status.reason } : {}),
    };
  }

  async mergePatch(object: KubernetesObject, patch: Record<string, unknown>): Promise<void> {
    // Only the object's identity besides the patch: a listed object's managedFields or
    // resourceVersion must not ride along.
    const target = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: { name: object.metadata?.name, namespace: object.metadata?.namespace },
      ...patch,
    } as KubernetesObject;
    await this.objects.patch(target, undefined, undefined, FIELD_MANAGER, undefined, MERGE_PATCH);
  }

  // Settles on the status frame or a lost connection, whatever stdin does (exec-session.ts).
  async exec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    streams: ExecStreams,
  ): Promise<number> {
    const { config, module } = this.requireStreaming();
    const exec = new module.Exec(config);
    const target = { namespace, pod, container };
    // One server, one protocol: asked once, by the first exec that streams stdin.
    const protocol = () => {
      this.execProtocol ??= negotiatedProtocol(exec, target);
      return this.execProtocol;
    };
    return runExec(exec, target, command, streams, protocol);
  }

  // client-node's Log pipes the response into the stream it is given and resolves at once
  // (its done callback is never called): the logs are over when that stream has ended.
  async logs(
    namespace: string,
    pod: string,
    container: string,
    out: Writable,
    options: { follow: boolean; tail: number; previous?: boolean },
  ): Promise<void> {
    const { config, module } = this.requireStreaming();
    if (options.tail === 0 && !options.follow) return;
    const sink = new PassThrough();
    const ended = new Promise<void>((resolve, reject) => {
      sink.once("end", resolve);
      sink.once("error", reject);
      // The response client-node pipes in is not ours to hold: a connection cut midway
      // (the API server gone) is an error here, not an unhandled one in there.
      sink.once("pipe", (source: NodeJS.ReadableStream) =>
        source.once("error", (error: Error) =>
          reject(
            new ProdlikeError("COMMAND_FAILED", `The logs of ${pod}/${container} were cut off`, {
              hint: error.message,
            }),
          ),
        ),
      );
    });
    sink.pipe(out, { end: false });
    await new module.Log(config).log(namespace, pod, container, sink, {
      follow: options.follow,
      ...(options.previous ? { previous: true } : {}),
      // client-node leaves a 0 out (all lines): following from now is "since now".
      ...(options.tail > 0 ? { tailLines: options.tail } : {}),
      ...(options.tail === 0 ? { sinceTime: new Date().toISOString() } : {}),
    });
    await ended;
  }

  private requireStreaming() {
    if (!this.streaming) throw new ProdlikeError("INTERNAL", "Kubernetes client has no connection");
    return this.streaming;
  }
}

export function podInfo(pod: V1Pod): PodInfo {
  const statuses = pod.status?.containerStatuses ?? [];
  return {
    name: pod.metadata?.name ?? "",
    uid: pod.metadata?.uid ?? "",
    labels: pod.metadata?.labels ?? {},
    annotations: pod.metadata?.annotations ?? {},
    terminating: pod.metadata?.deletionTimestamp !== undefined,
    ...unschedulable(pod),
    phase: pod.status?.phase ?? "Unknown",
    containers: (pod.spec?.containers ?? []).map((container) => {
      const status = statuses.find((item) => item.name === container.name);
      const state = status?.state?.running
        ? "running"
        : status?.state?.waiting
          ? (status.state.waiting.reason ?? "waiting")
          : status?.state?.terminated
            ? (status.state.terminated.reason ?? "terminated")
            : "pending";
      return {
        name: container.name,
        ready: status?.ready ?? false,
        state,
        restarts: status?.restartCount ?? 0,
      };
    }),
  };
}

function unschedulable(pod: V1Pod): { unschedulable?: string } {
  const condition = pod.status?.conditions?.find(
    (item) => item.type === "PodScheduled" && item.status === "False",
  );
  return condition
    ? { unschedulable: condition.message ?? condition.reason ?? "unschedulable" }
    : {};
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

export type { V1Deployment, V1StatefulSet };

function timeOf(event: CoreV1Event): number {
  const when = event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp;
  return when ? new Date(when).getTime() : 0;
}

async function loadContext(kubeconfig: string, context: string) {
  const module = await import("@kubernetes/client-node");
  const config = new module.KubeConfig();
  config.loadFromFile(kubeconfig);
  // client-node would go on with no cluster and fail later with "No active cluster!".
  if (!config.getContextObject(context)) {
    throw new ProdlikeError("CONFIG_INVALID", `Context ${context} is not in ${kubeconfig}`, {
      hint: "`kubectl config get-contexts` lists the contexts; KUBECONFIG picks another file.",
    });
  }
  config.setCurrentContext(context);
  const objects = module.KubernetesObjectApi.makeApiClient(config) as unknown as ObjectClient;
  return { objects, config, module };
}
