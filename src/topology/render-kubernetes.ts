import { createHash } from "node:crypto";
import type {
  V1ConfigMap,
  V1Container,
  V1CronJob,
  V1Deployment,
  V1Ingress,
  V1LimitRange,
  V1Namespace,
  V1ObjectMeta,
  V1PersistentVolumeClaim,
  V1PodSpec,
  V1ResourceQuota,
  V1Secret,
  V1Service,
  V1ServicePort,
  V1StatefulSet,
  V1Volume,
} from "@kubernetes/client-node";
import { stringify } from "yaml";
import {
  container,
  DNS_RESOLVED_VOLUME,
  dnsInitContainer,
  isSecretFile,
  needsDnsServer,
  platformFor,
  SECRET_NAME,
  secretEnvValues,
} from "./kube-container.js";
import { KubeAnnotation, KubeLabel, kubeEnvironmentLabels } from "./kube-labels.js";
import { resolvePlatformTokens, type ServiceSpec, type Topology } from "./model.js";

export const CONFIG_MAP_NAME = "prodlike-config";
/** Config files that hold secrets (OpenMage's local.xml), as production mounts them. */
export const SECRET_FILES_NAME = "prodlike-secret-files";
/** Storage each volume asks for; local clusters' provisioners do not enforce it. */
export const VOLUME_SIZE = "1Gi";
/** First NodePort prodlike hands out (the default range is 30000-32767). */
export const FIRST_NODE_PORT = 30080;

/** Where the code in the pods comes from. */
export type RenderedCode =
  /** The node sees the code root here (kind's extraMounts containerPath, minikube's
   *  --mount-string target); pods mount it with hostPath. */
  | { kind: "node-mount"; nodeCodePath: string }
  /** An image holding the tree at CODE_IMAGE_PATH: an init container copies it into the
   *  pod's own code volume, which live sync keeps up to date. */
  | { kind: "image"; image: string };

/** Where a code image holds the tree. */
export const CODE_IMAGE_PATH = "/prodlike/code";
const CODE_INIT_TARGET = "/prodlike/target";

export interface KubernetesRenderOptions {
  backend: string;
  code: RenderedCode;
  /** The namespace objects go to (default: the project's name). */
  namespace?: string | undefined;
  /** False: the namespace is made apart (an existing cluster's, guarded). */
  namespaceObject?: boolean | undefined;
  storageClass?: string | undefined;
  /** The Secret pods pull images with (a registry that needs credentials). */
  pullSecret?: string | undefined;
  /** NodePort of each published port, by port name; the cluster publishes it on
   *  127.0.0.1:hostPort (kind extraPortMappings, minikube --ports). */
  nodePorts: Readonly<Record<string, number>>;
}

export type KubeObject =
  | V1Namespace
  | V1Secret
  | V1ConfigMap
  | V1PersistentVolumeClaim
  | V1Service
  | V1Deployment
  | V1StatefulSet
  | V1CronJob
  | V1ResourceQuota
  | V1LimitRange
  | V1Ingress;

export interface RenderedManifests {
  namespace: string;
  /** In apply order: namespace, secrets, config map, shared claims, services, workloads. */
  objects: KubeObject[];
  /** Multi-document YAML of the same objects. Holds the secret: written 0600. */
  yaml: string;
  /** Hash of everything rendered; on every pod template, so a change rolls the pods. */
  configHash: string;
}

/** One pod's worth of services: a Deployment, a StatefulSet (it has volumes) or a CronJob. */
interface Workload {
  name: string;
  kind: "Deployment" | "StatefulSet" | "CronJob";
  members: ServiceSpec[];
  /** Volumes other workloads mount too (OpenMage's media): one PVC they all claim. */
  sharedVolumes: ReadonlySet<string>;
}

// NodePorts for the published ports, in topology order, from FIRST_NODE_PORT up. Fixed per
// topology: the cluster's host port mappings are made once, when it is created.
export function assignNodePorts(topology: Topology): Record<string, number> {
  const ports = topology.services.flatMap((service) => service.ports.map((port) => port.name));
  return Object.fromEntries(ports.map((name, index) => [name, FIRST_NODE_PORT + index]));
}

// Turns a topology into Kubernetes objects. Pure: same topology and options, same bytes.
export function renderKubernetes(
  topology: Topology,
  options: KubernetesRenderOptions,
): RenderedManifests {
  const namespace = options.namespace ?? topology.identity.project;
  const baseLabels = kubeEnvironmentLabels(topology.identity, {
    preset: topology.preset,
    backend: options.backend,
  });
  const meta = (name: string, labels: Record<string, string> = {}): V1ObjectMeta => ({
    name,
    namespace,
    labels: { ...baseLabels, ...labels },
    annotations: { [KubeAnnotation.codeRoot]: topology.codeRoot },
  });
  const secretEnv = secretEnvValues(topology);
  const secretKeys: ReadonlySet<string> = new Set(secretEnv.keys());
  const workloads = groupWorkloads(topology);

  const objects: KubeObject[] =
    options.namespaceObject === false
      ? []
      : [
          {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: namespace, labels: baseLabels },
          },
        ];
  if (secretKeys.size > 0) {
    objects.push({
      apiVersion: "v1",
      kind: "Secret",
      metadata: meta(SECRET_NAME),
      type: "Opaque",
      stringData: Object.fromEntries([...secretEnv].sort(([a], [b]) => a.localeCompare(b))),
    });
  }
  // Files only of use beside the developer's own files (the host's ssh agent) stay out.
  const clusterFiles = topology.configFiles
    .filter((file) => !file.hostOnly)
    .map((file) => ({
      ...file,
      content: resolvePlatformTokens(file.content, platformFor(topology, file.name)),
    }));
  const plainFiles = clusterFiles.filter((file) => !file.secret);
  const secretFiles = clusterFiles.filter((file) => file.secret);
  if (secretFiles.length > 0) {
    objects.push({
      apiVersion: "v1",
      kind: "Secret",
      metadata: meta(SECRET_FILES_NAME),
      type: "Opaque",
      stringData: Object.fromEntries(secretFiles.map((file) => [file.name, file.content])),
    });
  }
  if (plainFiles.length > 0) {
    objects.push({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta(CONFIG_MAP_NAME),
      data: Object.fromEntries(plainFiles.map((file) => [file.name, file.content])),
    });
  }
  objects.push(...sharedClaims(workloads, meta, options.storageClass));
  for (const workload of workloads) {
    objects.push(...renderServices(workload, options, meta));
  }
  const configHash = hashObjects(objects);
  for (const workload of workloads) {
    objects.push(renderWorkload(topology, workload, options, { meta, secretKeys, configHash }));
  }

  const yaml = `# Generated by prodlike for environment ${topology.identity.id}. Do not edit: run \`prodlike up\` to regenerate.\n${objects
    .map((object) => stringify(object, { lineWidth: 0 }))
    .join("---\n")}`;
  return { namespace, objects, yaml, configHash: hashObjects(objects) };
}

// Pods as the topology groups them; a service in no group is a pod of its own.
function groupWorkloads(topology: Topology): Workload[] {
  const grouped = new Map<string, string>();
  for (const [pod, members] of Object.entries(topology.podGroups)) {
    for (const member of members) grouped.set(member, pod);
  }
  const workloads: Workload[] = [];
  for (const service of topology.services) {
    const pod = grouped.get(service.name) ?? service.name;
    let workload = workloads.find((candidate) => candidate.name === pod);
    if (!workload) {
      workload = { name: pod, kind: "Deployment", members: [], sharedVolumes: new Set() };
      workloads.push(workload);
    }
    workload.members.push(service);
  }
  const users = new Map<string, number>();
  for (const workload of workloads) {
    for (const volume of mountedVolumes(workload)) users.set(volume, (users.get(volume) ?? 0) + 1);
  }
  const shared = new Set([...users].filter(([, count]) => count > 1).map(([volume]) => volume));
  for (const workload of workloads) {
    workload.sharedVolumes = new Set(mountedVolumes(workload).filter((v) => shared.has(v)));
    if (workload.members.some((member) => member.role === "cron")) workload.kind = "CronJob";
    else if (volumeNames(workload).length > 0) workload.kind = "StatefulSet";
  }
  return workloads;
}

// A Service per service that has ports, named after it, so services find each other by
// name as on compose (php-fpm inside the web pod is still `php-fpm`). Published ports get
// their NodePort there. A pod named unlike all its members gets a Service of its own too.
function renderServices(
  workload: Workload,
  options: KubernetesRenderOptions,
  meta: (name: string, labels?: Record<string, string>) => V1ObjectMeta,
): V1Service[] {
  if (workload.kind === "CronJob") return [];
  const service = (name: string, ports: V1ServicePort[]): V1Service => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(name, { [KubeLabel.service]: name }),
    spec: {
      type: ports.some((port) => port.nodePort !== undefined) ? "NodePort" : "ClusterIP",
      selector: { [KubeLabel.appName]: workload.name },
      ports,
    },
  });
  const services: V1Service[] = [];
  for (const member of workload.members) {
    const ports = servicePorts([member], options.nodePorts);
    if (ports.length > 0) services.push(service(member.name, ports));
  }
  if (!workload.members.some((member) => member.name === workload.name)) {
    const ports = servicePorts(workload.members, {});
    if (ports.length > 0) services.push(service(workload.name, ports));
  }
  return services;
}

function servicePorts(
  members: ServiceSpec[],
  nodePorts: Readonly<Record<string, number>>,
): V1ServicePort[] {
  const ports: V1ServicePort[] = [];
  for (const member of members) {
    for (const port of member.ports) {
      const rendered: V1ServicePort = {
        name: port.name,
        port: port.containerPort,
        targetPort: port.containerPort,
        protocol: "TCP",
      };
      const nodePort = nodePorts[port.name];
      if (nodePort !== undefined) rendered.nodePort = nodePort;
      ports.push(rendered);
    }
    for (const exposed of member.expose ?? []) {
      ports.push({ name: `tcp-${exposed}`, port: exposed, targetPort: exposed, protocol: "TCP" });
    }
  }
  return ports;
}

interface WorkloadContext {
  meta: (name: string, labels?: Record<string, string>) => V1ObjectMeta;
  secretKeys: ReadonlySet<string>;
  configHash: string;
}

function renderWorkload(
  topology: Topology,
  workload: Workload,
  options: KubernetesRenderOptions,
  context: WorkloadContext,
): V1Deployment | V1StatefulSet | V1CronJob {
  const selector = { [KubeLabel.appName]: workload.name };
  const podLabels = {
    ...(context.meta(workload.name).labels ?? {}),
    ...selector,
    [KubeLabel.appInstance]: topology.identity.id,
    [KubeLabel.role]: workload.members.map((member) => member.role).join("-"),
  };
  const template = {
    metadata: {
      labels: podLabels,
      annotations: {
        [KubeAnnotation.configHash]: context.configHash,
        [KubeAnnotation.roles]: workload.members
          .map((member) => `${member.name}=${member.role}`)
          .join(","),
      },
    },
    spec: podSpec(topology, workload, options, context.secretKeys),
  };
  const metadata = context.meta(workload.name, { [KubeLabel.appName]: workload.name });

  if (workload.kind === "CronJob") {
    const schedule = workload.members.find((member) => member.schedule)?.schedule ?? "* * * * *";
    return {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata,
      spec: {
        schedule,
        // A run still going when the next is due is skipped, never doubled up.
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 1,
        jobTemplate: {
          spec: {
            backoffLimit: 0,
            template: { ...template, spec: { ...template.spec, restartPolicy: "Never" } },
          },
        },
      },
    };
  }
  if (workload.kind === "StatefulSet") {
    const volumes = volumeNames(workload);
    return {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata,
      spec: {
        serviceName: workload.name,
        replicas: 1,
        selector: { matchLabels: selector },
        template,
        volumeClaimTemplates: volumes.map(
          (volume): V1PersistentVolumeClaim => ({
            metadata: { name: volume, labels: context.meta(volume).labels ?? {} },
            spec: {
              accessModes: ["ReadWriteOnce"],
              ...(options.storageClass ? { storageClassName: options.storageClass } : {}),
              resources: { requests: { storage: VOLUME_SIZE } },
            },
          }),
        ),
      },
    };
  }
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata,
    spec: {
      replicas: 1,
      selector: { matchLabels: selector },
      // One replica on a laptop: replace it rather than run old and new side by side
      // against the same code tree and database.
      strategy: { type: "Recreate" },
      template,
    },
  };
}

function podSpec(
  topology: Topology,
  workload: Workload,
  options: KubernetesRenderOptions,
  secretKeys: ReadonlySet<string>,
): V1PodSpec {
  const mounts = workload.members.flatMap((member) => member.mounts);
  const volumes: V1Volume[] = [];
  const codeMember = workload.members.find((member) =>
    member.mounts.some((mount) => mount.type === "code"),
  );
  const codeInit =
    codeMember && options.code.kind === "image"
      ? codeCopyContainer(codeMember, options.code.image)
      : undefined;
  if (codeMember) {
    volumes.push(
      options.code.kind === "node-mount"
        ? { name: "code", hostPath: { path: options.code.nodeCodePath, type: "Directory" } }
        : { name: "code", emptyDir: {} },
    );
  }
  const configMounts = mounts.filter((mount) => mount.type === "config");
  if (configMounts.some((mount) => !isSecretFile(topology, mount.file))) {
    volumes.push({ name: "config", configMap: { name: CONFIG_MAP_NAME } });
  }
  const dnsFiles = [
    ...new Set(
      configMounts.flatMap((mount) =>
        mount.type === "config" && needsDnsServer(topology, mount.file) ? [mount.file] : [],
      ),
    ),
  ].sort();
  const dnsReader = workload.members.find((member) =>
    member.mounts.some((mount) => mount.type === "config" && dnsFiles.includes(mount.file)),
  );
  // One init container fills the DNS server in for the whole pod.
  const dnsInit = dnsReader ? dnsInitContainer(dnsReader, dnsFiles) : undefined;
  if (dnsInit) volumes.push({ name: DNS_RESOLVED_VOLUME, emptyDir: {} });
  for (const volume of [...workload.sharedVolumes].sort()) {
    volumes.push({ name: volume, persistentVolumeClaim: { claimName: volume } });
  }
  if (configMounts.some((mount) => isSecretFile(topology, mount.file))) {
    volumes.push({ name: "secret-files", secret: { secretName: SECRET_FILES_NAME } });
  }
  const initContainers = [...(codeInit ? [codeInit] : []), ...(dnsInit ? [dnsInit] : [])];
  const spec: V1PodSpec = {
    ...(initContainers.length > 0 ? { initContainers } : {}),
    containers: workload.members.map((member) => container(topology, member, secretKeys)),
    // Containers that asked for an init process (a bare `sleep` as PID 1 ignores SIGTERM)
    // get the pause container as PID 1 instead, as compose's `init: true` gives.
    ...(workload.members.some((member) => member.init) ? { shareProcessNamespace: true } : {}),
    enableServiceLinks: false,
    ...(options.pullSecret ? { imagePullSecrets: [{ name: options.pullSecret }] } : {}),
  };
  if (volumes.length > 0) spec.volumes = volumes;
  return spec;
}

// The pod's code volume starts as the code image's tree: copied by the developer's user
// (the files are theirs, as on a mount), without ownership from the image (a non-root
// copy cannot keep it), timestamps kept.
function codeCopyContainer(member: ServiceSpec, image: string): V1Container {
  return {
    name: "prodlike-code",
    image,
    imagePullPolicy: "IfNotPresent",
    command: [
      "sh",
      "-c",
      `cp -R --preserve=mode,timestamps ${CODE_IMAGE_PATH}/. ${CODE_INIT_TARGET}/`,
    ],
    ...(member.user
      ? {
          securityContext: {
            runAsUser: member.user.uid,
            ...(member.user.gid === undefined ? {} : { runAsGroup: member.user.gid }),
            allowPrivilegeEscalation: false,
          },
        }
      : {}),
    volumeMounts: [{ name: "code", mountPath: CODE_INIT_TARGET }],
  };
}

function mountedVolumes(workload: Workload): string[] {
  const names = new Set<string>();
  for (const member of workload.members) {
    for (const mount of member.mounts) if (mount.type === "volume") names.add(mount.volume);
  }
  return [...names].sort();
}

/** The volumes only this workload mounts: its StatefulSet's claim templates. */
function volumeNames(workload: Workload): string[] {
  return mountedVolumes(workload).filter((volume) => !workload.sharedVolumes.has(volume));
}

/** Volumes several workloads mount, each one claim they all use. */
function sharedClaims(
  workloads: readonly Workload[],
  meta: (name: string) => V1ObjectMeta,
  storageClass: string | undefined,
): V1PersistentVolumeClaim[] {
  const names = new Set(workloads.flatMap((workload) => [...workload.sharedVolumes]));
  return [...names].sort().map((volume) => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: meta(volume),
    spec: {
      accessModes: ["ReadWriteOnce"],
      ...(storageClass ? { storageClassName: storageClass } : {}),
      resources: { requests: { storage: VOLUME_SIZE } },
    },
  }));
}

function hashObjects(objects: readonly KubeObject[]): string {
  return createHash("sha256").update(JSON.stringify(objects)).digest("hex").slice(0, 16);
}
