import type { TransformId } from "../config/vocabulary.js";
import { splitImage } from "../kube/image-ref.js";
import {
  CODE_NODE_PATH,
  CODE_VOLUME,
  type Container,
  type PodSpec,
  podSpecOf,
} from "../kube/pods.js";
import { localHostFor } from "../topology/hosts.js";
import type { ManifestObject } from "./manifests.js";

// The local transforms of a mirror: each one changes production's objects in one way a
// laptop needs, and every change it makes is recorded, so parity can tell an expected
// difference (caused by a listed transform) from an unexpected one. Each can be turned off
// in prodlike.yaml (`mirror.transforms.ID: false`). Pure: objects in, objects out.

export interface AppliedTransform {
  transform: TransformId;
  kind: string;
  name: string;
  /** What changed, without any secret value. */
  detail: string;
  /** The container it touched, when it was one container. */
  container?: string;
}

export interface MirrorOptions {
  envName: string;
  /** The project name: with envName, the local host names (ENV.PROJECT.localhost). */
  project: string;
  disabled: ReadonlySet<TransformId>;
  /** Requests and limits are multiplied by this (0.25: a quarter of production's). */
  resourceScale: number;
  /** Production image repository -> local image (a tag built here, or another ref). */
  images: Readonly<Record<string, string>>;
  /** Local values by Secret name and key; other keys get `localSecret(name, key)`. */
  secrets: Readonly<Record<string, Readonly<Record<string, string>>>>;
  localSecret: (secret: string, key: string) => string;
  /** Storage class for claims; undefined: the cluster's default. */
  storageClass?: string | undefined;
  /** Where the code is in the containers that serve it, which containers those are, and
   *  the developer's uid:gid they run as (what they write into the code is theirs). */
  codeMount?:
    | {
        path: string;
        containers: readonly string[];
        user?: { uid: number; gid: number } | undefined;
      }
    | undefined;
}

// Annotation prefixes that only mean something to one cloud's controllers.
const CLOUD_ANNOTATIONS = [
  "eks.amazonaws.com/",
  "service.beta.kubernetes.io/aws-",
  "alb.ingress.kubernetes.io/",
  "cloud.google.com/",
  "networking.gke.io/",
  "service.beta.kubernetes.io/azure-",
  "azure.workload.identity/",
  "service.kubernetes.io/topology-",
  "external-dns.alpha.kubernetes.io/",
  "cert-manager.io/",
];

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "Job", "CronJob"]);

export function applyTransforms(
  objects: readonly ManifestObject[],
  options: MirrorOptions,
): { objects: ManifestObject[]; applied: AppliedTransform[] } {
  const applied: AppliedTransform[] = [];
  const on = (id: TransformId) => !options.disabled.has(id);
  const result: ManifestObject[] = [];
  for (const original of objects) {
    const object = structuredClone(original);
    const note = (transform: TransformId, detail: string, container?: string) =>
      applied.push({
        transform,
        kind: object.kind,
        name: object.metadata.name,
        detail,
        ...(container ? { container } : {}),
      });
    if (object.kind === "HorizontalPodAutoscaler" && on("autoscaling")) {
      note("autoscaling", "dropped: one replica locally");
      continue;
    }
    if (object.kind === "PodDisruptionBudget" && on("disruption-budgets")) {
      note("disruption-budgets", "dropped: nothing to keep available on one node");
      continue;
    }
    if (on("cloud-specific")) dropCloudAnnotations(object, note);
    if (WORKLOAD_KINDS.has(object.kind)) transformWorkload(object, options, on, note);
    if (object.kind === "Secret" && on("secrets")) localSecretValues(object, options, note);
    if (object.kind === "Ingress" && on("ingress-hosts")) localHosts(object, options, note);
    if (object.kind === "PersistentVolumeClaim" && on("storage-class")) {
      localStorageClass(object.spec as ClaimSpec | undefined, options, (detail) =>
        note("storage-class", detail),
      );
    }
    result.push(object);
  }
  return { objects: result, applied };
}

type Note = (transform: TransformId, detail: string, container?: string) => void;

interface ClaimSpec {
  storageClassName?: string;
}

function transformWorkload(
  object: ManifestObject,
  options: MirrorOptions,
  on: (id: TransformId) => boolean,
  note: Note,
): void {
  const spec = object.spec as
    | {
        replicas?: number;
        volumeClaimTemplates?: { metadata?: { name?: string }; spec?: ClaimSpec }[];
      }
    | undefined;
  if (on("replicas") && spec && typeof spec.replicas === "number" && spec.replicas !== 1) {
    note("replicas", `replicas ${spec.replicas} -> 1`);
    spec.replicas = 1;
  }
  if (on("storage-class")) {
    for (const claim of spec?.volumeClaimTemplates ?? []) {
      localStorageClass(claim.spec, options, (detail) =>
        note("storage-class", `${claim.metadata?.name ?? "claim"}: ${detail}`),
      );
    }
  }
  const pod = podSpecOf(object);
  if (!pod) return;
  if (on("cloud-specific")) {
    for (const field of [
      "nodeSelector",
      "affinity",
      "tolerations",
      "topologySpreadConstraints",
    ] as const) {
      if (pod[field] !== undefined) {
        delete pod[field];
        note("cloud-specific", `${field} removed`);
      }
    }
  }
  for (const container of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
    if (on("resources")) scaleResources(container, options.resourceScale, note);
    if (on("images") && container.image) {
      const local = localImage(container.image, options.images);
      if (local) {
        note("images", `${container.image} -> ${local}`, container.name);
        container.image = local;
      }
    }
  }
  if (on("code-mount") && options.codeMount) injectCode(pod, options.codeMount, note);
}

function localImage(image: string, map: Readonly<Record<string, string>>): string | undefined {
  return map[image] ?? map[splitImage(image).repository];
}

function scaleResources(container: Container, scale: number, note: Note): void {
  const resources = container.resources;
  if (!resources) return;
  const changes: string[] = [];
  for (const bound of ["requests", "limits"] as const) {
    for (const [resource, value] of Object.entries(resources[bound] ?? {})) {
      const scaled = scaleQuantity(value, scale, resource);
      if (scaled !== undefined && scaled !== value && resources[bound]) {
        resources[bound][resource] = scaled;
        changes.push(`${bound}.${resource} ${value} -> ${scaled}`);
      }
    }
  }
  if (changes.length > 0) note("resources", changes.join(", "), container.name);
}

// cpu in millicores, memory in Mi; floors so a scaled container still starts.
export function scaleQuantity(value: string, scale: number, resource: string): string | undefined {
  if (resource === "cpu") {
    const millis = /^(\d+(?:\.\d+)?)(m?)$/.exec(value);
    if (!millis) return undefined;
    const amount = Number(millis[1]) * (millis[2] === "m" ? 1 : 1000);
    return `${Math.max(10, Math.round(amount * scale))}m`;
  }
  if (resource === "memory") {
    const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(value);
    if (!match) return undefined;
    const factor: Record<string, number> = {
      Ki: 1 / 1024,
      Mi: 1,
      Gi: 1024,
      Ti: 1024 * 1024,
      K: 1e3 / 1048576,
      M: 1e6 / 1048576,
      G: 1e9 / 1048576,
      T: 1e12 / 1048576,
    };
    const mebibytes = match[2]
      ? Number(match[1]) * (factor[match[2]] ?? 1)
      : Number(match[1]) / 1048576;
    return `${Math.max(32, Math.round(mebibytes * scale))}Mi`;
  }
  return undefined;
}

function injectCode(pod: PodSpec, code: NonNullable<MirrorOptions["codeMount"]>, note: Note): void {
  const serving = (pod.containers ?? []).filter((container) =>
    code.containers.includes(container.name),
  );
  if (serving.length === 0) return;
  pod.volumes = [
    ...(pod.volumes ?? []).filter((volume) => volume.name !== CODE_VOLUME),
    { name: CODE_VOLUME, hostPath: { path: CODE_NODE_PATH, type: "Directory" } },
  ];
  for (const container of serving) {
    // Whatever production mounted at the code path (an emptyDir the image copied into)
    // gives way to the live code.
    container.volumeMounts = [
      ...(container.volumeMounts ?? []).filter((mount) => mount.mountPath !== code.path),
      { name: CODE_VOLUME, mountPath: code.path },
    ];
    note("code-mount", `live code at ${code.path}`, container.name);
    if (code.user) {
      container.securityContext = {
        ...container.securityContext,
        runAsUser: code.user.uid,
        runAsGroup: code.user.gid,
      };
      note(
        "code-mount",
        `runs as the developer (${code.user.uid}:${code.user.gid}): what it writes into the code is theirs`,
        container.name,
      );
    }
  }
}

function localSecretValues(object: ManifestObject, options: MirrorOptions, note: Note): void {
  const data = (object.stringData as Record<string, string> | undefined) ?? {};
  const configured = options.secrets[object.metadata.name] ?? {};
  for (const key of Object.keys(data)) {
    data[key] = configured[key] ?? options.localSecret(object.metadata.name, key);
  }
  object.stringData = data;
  note(
    "secrets",
    `${Object.keys(data).length} value(s) local (${Object.keys(configured).length} from prodlike.yaml)`,
  );
}

function localHosts(object: ManifestObject, options: MirrorOptions, note: Note): void {
  const spec = object.spec as
    | { rules?: { host?: string }[]; tls?: unknown; ingressClassName?: string }
    | undefined;
  for (const rule of spec?.rules ?? []) {
    if (!rule.host) continue;
    const local = localHostFor(rule.host, { name: options.envName, project: options.project });
    note("ingress-hosts", `${rule.host} -> ${local}`);
    rule.host = local;
  }
  if (spec?.tls !== undefined) {
    delete spec.tls;
    note("ingress-hosts", "tls removed: production certificates stay in production");
  }
  if (spec?.ingressClassName !== undefined) {
    note("ingress-hosts", `ingressClassName ${spec.ingressClassName} removed: the local default`);
    delete spec.ingressClassName;
  }
}

function localStorageClass(
  spec: ClaimSpec | undefined,
  options: MirrorOptions,
  note: (detail: string) => void,
): void {
  if (!spec || spec.storageClassName === options.storageClass) return;
  const from = spec.storageClassName ?? "(default)";
  if (options.storageClass) spec.storageClassName = options.storageClass;
  else delete spec.storageClassName;
  note(`storageClassName ${from} -> ${options.storageClass ?? "the local default"}`);
}

function dropCloudAnnotations(object: ManifestObject, note: Note): void {
  const holders = [
    object.metadata,
    ...(object.kind === "CronJob"
      ? []
      : [
          (object.spec as { template?: { metadata?: Record<string, unknown> } } | undefined)
            ?.template?.metadata,
        ]),
  ];
  for (const holder of holders) {
    const annotations = holder?.annotations as Record<string, string> | undefined;
    if (!annotations) continue;
    const removed = Object.keys(annotations).filter((key) =>
      CLOUD_ANNOTATIONS.some((prefix) => key.startsWith(prefix)),
    );
    for (const key of removed) delete annotations[key];
    if (removed.length > 0)
      note("cloud-specific", `annotations removed: ${removed.sort().join(", ")}`);
  }
}
