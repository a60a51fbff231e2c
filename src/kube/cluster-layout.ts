import { createHash } from "node:crypto";
import { stringify } from "yaml";
import type { KubeObject as ManifestObject } from "../topology/model.js";
import type { Adaptation } from "./adaptation.js";
import { isDatabaseContainer } from "./database-role.js";
import { CODE_VOLUME, type PodTemplate, podSpecOf, podTemplateOf } from "./pods.js";
import { findWebEntry, podLabels, selects } from "./web-entry.js";

// The mirrored manifests as a local kind / minikube cluster applies them. Production's
// objects stay as they are, with what a one-environment cluster needs added: one
// namespace, the environment's labels (status, down and parity find the pods by them),
// the code mount pointed at the node's copy of the code tree, images loaded from this
// machine never pulled, and a NodePort Service that publishes the web entry on the port
// the cluster maps to 127.0.0.1. Pure: same input, same bytes.

export const WEB_SERVICE_NAME = "prodlike-web";

export interface ClusterLayoutOptions {
  /** Labels on every object and pod (kubeEnvironmentLabels). */
  labels: Record<string, string>;
  /** The namespace when production's objects name none. */
  defaultNamespace: string;
  /** Where the node sees the code tree (kind extraMounts / minikube --mount-string). */
  nodeCodePath: string;
  /** Images this machine holds, loaded into the node: the cluster must not pull them. */
  localImages: ReadonlySet<string>;
  /** The NodePort the cluster maps to the web's host port. */
  webNodePort: number;
  /** Labels and annotations keys used on pod templates. */
  roleLabel: string;
  configHashAnnotation: string;
  /** Each container's own role, where it has one (the database: database-role.ts). */
  rolesAnnotation: string;
}

export interface ClusterLayout {
  namespace: string;
  /** In apply order, the Namespace first. */
  objects: ManifestObject[];
  yaml: string;
  configHash: string;
  /** Every image the pods run, and the ones to load into the node from this machine. */
  images: { all: string[]; load: string[] };
  /** The container that serves the web entry, and the port it listens on. */
  web?: { container: string; containerPort: number };
  adaptations: Adaptation[];
}

const APPLY_ORDER = [
  "Namespace",
  "ServiceAccount",
  "Secret",
  "ConfigMap",
  "PersistentVolumeClaim",
  "Service",
  "NetworkPolicy",
  "PodDisruptionBudget",
  "StatefulSet",
  "Deployment",
  "Job",
  "CronJob",
  "HorizontalPodAutoscaler",
  "Ingress",
];

interface Container {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  ports?: { containerPort: number; name?: string }[];
  env?: { name: string }[];
}

interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: { name: string; hostPath?: { path: string; type?: string } }[];
}

export function mirrorToCluster(
  source: readonly ManifestObject[],
  options: ClusterLayoutOptions,
): ClusterLayout {
  const adaptations: Adaptation[] = [];
  const note = (object: ManifestObject, detail: string) =>
    adaptations.push({ kind: object.kind, name: object.metadata.name, detail });
  const objects = structuredClone(source) as ManifestObject[];
  const namespace = intoOneNamespace(objects, options, note);
  for (const object of objects) adaptPod(object, options);

  const web = findWebEntry(objects);
  let served: ClusterLayout["web"];
  if (web) {
    objects.push(webNodePort(web, namespace, options));
    note(
      web.service,
      `published through NodePort Service ${WEB_SERVICE_NAME} (${options.webNodePort}), which the cluster maps to 127.0.0.1`,
    );
    served = servingContainer(objects, web.service, web.targetPort);
  }
  for (const ingress of objects.filter((object) => object.kind === "Ingress"))
    note(ingress, "applied as production has it; local traffic enters through prodlike-web");

  objects.unshift({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: namespace, labels: { ...options.labels } },
  });
  const ordered = objects
    .map((object, index) => ({ object, index }))
    .sort((a, b) => rank(a.object.kind) - rank(b.object.kind) || a.index - b.index)
    .map(({ object }) => object);
  const configHash = stampConfigHash(ordered, options.configHashAnnotation);
  const all = podImages(source);
  return {
    namespace,
    objects: ordered,
    yaml: ordered.map((object) => stringify(object, { lineWidth: 0 })).join("---\n"),
    configHash,
    images: { all, load: all.filter((image) => options.localImages.has(image)) },
    ...(served ? { web: served } : {}),
    adaptations,
  };
}

// One namespace: status, logs and down look in one, and in-cluster names such as
// db.shop.svc.cluster.local keep working when it is production's own. Every object gets
// the environment's labels.
function intoOneNamespace(
  objects: ManifestObject[],
  options: ClusterLayoutOptions,
  note: (object: ManifestObject, detail: string) => void,
): string {
  const named = objects.map((object) => object.metadata.namespace).find(Boolean);
  const namespace = typeof named === "string" ? named : options.defaultNamespace;
  for (const object of objects) {
    const own = object.metadata.namespace;
    if (typeof own === "string" && own !== namespace)
      note(object, `moved from namespace ${own} into ${namespace}`);
    object.metadata = {
      ...object.metadata,
      namespace,
      labels: { ...labelsOf(object.metadata), ...options.labels },
    };
  }
  return namespace;
}

// A pod as one local cluster runs it: the environment's labels, the code from the node's
// copy, images this machine loaded used as they are.
function adaptPod(object: ManifestObject, options: ClusterLayoutOptions): void {
  const pod = podSpecOf(object) as PodSpec | undefined;
  if (!pod) return;
  const template = templateOf(object);
  if (template) {
    const roles = (pod.containers ?? [])
      .filter(isDatabaseContainer)
      .map((container) => `${container.name}=db`);
    template.metadata = {
      ...template.metadata,
      labels: {
        ...(template.metadata?.labels ?? {}),
        ...options.labels,
        [options.roleLabel]: "mirror",
      },
      ...(roles.length > 0
        ? {
            annotations: {
              ...(template.metadata?.annotations ?? {}),
              [options.rolesAnnotation]: roles.join(","),
            },
          }
        : {}),
    };
  }
  for (const volume of pod.volumes ?? []) {
    if (volume.name === CODE_VOLUME && volume.hostPath)
      volume.hostPath = { ...volume.hostPath, path: options.nodeCodePath };
  }
  for (const container of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
    if (!container.image) continue;
    // A loaded `latest` (or untagged) image would be pulled by default, and fail.
    if (options.localImages.has(container.image) && container.imagePullPolicy !== "Never") {
      container.imagePullPolicy = "IfNotPresent";
    }
  }
}

/** The NodePort Service that publishes production's web entry on the node. */
function webNodePort(
  web: NonNullable<ReturnType<typeof findWebEntry>>,
  namespace: string,
  options: ClusterLayoutOptions,
): ManifestObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: WEB_SERVICE_NAME, namespace, labels: { ...options.labels } },
    spec: {
      type: "NodePort",
      selector: (web.service.spec as { selector?: Record<string, string> }).selector ?? {},
      ports: [
        { name: "web", port: web.port, targetPort: web.targetPort, nodePort: options.webNodePort },
      ],
    },
  };
}

// The hash of everything applied goes on each pod template, so a changed ConfigMap or
// Secret (which subPath mounts never see) rolls the pods on the next `up`.
function stampConfigHash(ordered: readonly ManifestObject[], annotation: string): string {
  const configHash = createHash("sha256")
    .update(ordered.map((object) => stringify(object)).join("---\n"))
    .digest("hex")
    .slice(0, 16);
  for (const object of ordered) {
    const template = templateOf(object);
    if (template?.metadata) {
      template.metadata.annotations = {
        ...(template.metadata.annotations ?? {}),
        [annotation]: configHash,
      };
    }
  }
  return configHash;
}

/** Every image the pods of these objects run (init containers too), sorted. */
export function podImages(objects: readonly ManifestObject[]): string[] {
  const images = objects.flatMap((object) => {
    const pod = podSpecOf(object) as PodSpec | undefined;
    return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].flatMap((container) =>
      container.image ? [container.image] : [],
    );
  });
  return [...new Set(images)].sort();
}

function rank(kind: string): number {
  const index = APPLY_ORDER.indexOf(kind);
  return index === -1 ? APPLY_ORDER.length : index;
}

function labelsOf(metadata: ManifestObject["metadata"]): Record<string, string> {
  return (metadata.labels as Record<string, string> | undefined) ?? {};
}

// The pod template to label and annotate, its metadata made when absent.
function templateOf(object: ManifestObject): PodTemplate | undefined {
  const template = podTemplateOf(object);
  if (!template?.spec) return undefined;
  template.metadata ??= {};
  return template;
}

// The container behind the web entry: in a pod the Service selects, the one listening
// on the target port (by number or by port name).
function servingContainer(
  objects: readonly ManifestObject[],
  service: ManifestObject,
  targetPort: number | string,
): ClusterLayout["web"] {
  for (const object of objects) {
    if (!selects(service, podLabels(object))) continue;
    for (const container of (podSpecOf(object) as PodSpec | undefined)?.containers ?? []) {
      const port = (container.ports ?? []).find((candidate) =>
        typeof targetPort === "number"
          ? candidate.containerPort === targetPort
          : candidate.name === targetPort,
      );
      if (port) return { container: container.name, containerPort: port.containerPort };
    }
  }
  return undefined;
}
