import { splitImage } from "../kube/image-ref.js";
import { podSpecOf } from "../kube/pods.js";
import type { ManifestObject } from "../mirror/manifests.js";
import { factsFromImage, type RuntimeFacts } from "./runtime-facts.js";

// What parity compares of a workload, read from manifests: per container the image
// repository and tag, ports, environment variable names (never values), mounted config
// keys, probes, command and args; per workload its replicas and cron schedule.

export interface ContainerView {
  name: string;
  init: boolean;
  repository: string;
  tag: string;
  ports: string[];
  envNames: string[];
  /** `configmap/NAME` or `secret/NAME` (whole) or `configmap/NAME:KEY`, sorted. */
  configKeys: string[];
  /** The variables `envFrom` brings in, where the manifests hold that ConfigMap or Secret
   *  (a running container shows them as its own), sorted. */
  envFromNames?: string[];
  probes: string[];
  command: string[];
  args: string[];
  /** PHP and database facts, where the image or the running container tells them. */
  runtime?: RuntimeFacts;
}

export interface WorkloadView {
  kind: string;
  name: string;
  schedule?: string;
  containers: ContainerView[];
}

interface RawContainer {
  name: string;
  image?: string;
  ports?: { containerPort: number; protocol?: string }[];
  env?: { name: string; valueFrom?: { configMapKeyRef?: Ref; secretKeyRef?: Ref } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  command?: string[];
  args?: string[];
}

interface Ref {
  name: string;
  key: string;
}

interface Probe {
  httpGet?: { path?: string; port?: number | string };
  tcpSocket?: { port?: number | string };
  exec?: { command?: string[] };
}

interface RawVolume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
}

const WORKLOADS = new Set(["Deployment", "StatefulSet", "CronJob", "Job"]);

export function workloadViews(objects: readonly ManifestObject[]): WorkloadView[] {
  const keys = new Map<string, string[]>();
  for (const object of objects) {
    const kind =
      object.kind === "ConfigMap" ? "configmap" : object.kind === "Secret" ? "secret" : "";
    if (!kind) continue;
    const data = {
      ...(object.data as object | undefined),
      ...(object.stringData as object | undefined),
    };
    keys.set(`${kind}/${object.metadata.name}`, Object.keys(data));
  }
  return objects
    .filter((object) => WORKLOADS.has(object.kind))
    .map((object) => {
      const pod = podSpecOf(object) as
        | { containers?: RawContainer[]; initContainers?: RawContainer[]; volumes?: RawVolume[] }
        | undefined;
      const volumes = new Map((pod?.volumes ?? []).map((volume) => [volume.name, volume]));
      const view = (container: RawContainer, init: boolean) =>
        containerView(container, init, volumes, keys);
      const schedule = (object.spec as { schedule?: string } | undefined)?.schedule;
      return {
        kind: object.kind,
        name: object.metadata.name,
        ...(schedule ? { schedule } : {}),
        containers: [
          ...(pod?.initContainers ?? []).map((container) => view(container, true)),
          ...(pod?.containers ?? []).map((container) => view(container, false)),
        ],
      };
    });
}

function containerView(
  container: RawContainer,
  init: boolean,
  volumes: ReadonlyMap<string, RawVolume>,
  keys: ReadonlyMap<string, string[]>,
): ContainerView {
  const { repository, tag } = splitImage(container.image ?? "");
  const configKeys = new Set<string>();
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.configMapKeyRef ?? variable.valueFrom?.secretKeyRef;
    const kind = variable.valueFrom?.configMapKeyRef ? "configmap" : "secret";
    if (ref) configKeys.add(`${kind}/${ref.name}:${ref.key}`);
  }
  const envFromNames = new Set<string>();
  for (const source of container.envFrom ?? []) {
    const from = source.configMapRef
      ? `configmap/${source.configMapRef.name}`
      : source.secretRef
        ? `secret/${source.secretRef.name}`
        : undefined;
    if (!from) continue;
    configKeys.add(from);
    for (const name of keys.get(from) ?? []) envFromNames.add(name);
  }
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.get(mount.name);
    if (volume?.configMap) configKeys.add(`configmap/${volume.configMap.name}@${mount.mountPath}`);
    if (volume?.secret) configKeys.add(`secret/${volume.secret.secretName}@${mount.mountPath}`);
  }
  return {
    name: container.name,
    init,
    repository,
    tag,
    ports: (container.ports ?? [])
      .map((port) => `${port.containerPort}/${port.protocol ?? "TCP"}`)
      .sort(),
    envNames: [...new Set((container.env ?? []).map((variable) => variable.name))].sort(),
    configKeys: [...configKeys].sort(),
    ...(envFromNames.size > 0 ? { envFromNames: [...envFromNames].sort() } : {}),
    probes: (["readinessProbe", "livenessProbe", "startupProbe"] as const)
      .filter((probe) => container[probe])
      .map((probe) => `${probe.replace("Probe", "")} ${describeProbe(container[probe] as Probe)}`),
    command: container.command ?? [],
    args: container.args ?? [],
    runtime: factsFromImage(repository, tag),
  };
}

function describeProbe(probe: Probe): string {
  if (probe.httpGet) return `http ${probe.httpGet.path ?? "/"} :${probe.httpGet.port ?? ""}`;
  if (probe.tcpSocket) return `tcp :${probe.tcpSocket.port ?? ""}`;
  if (probe.exec) return `exec ${(probe.exec.command ?? []).join(" ")}`;
  return "other";
}
