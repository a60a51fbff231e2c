import { createHash } from "node:crypto";
import type {
  KubernetesObject,
  V1Ingress,
  V1LimitRange,
  V1ResourceQuota,
} from "@kubernetes/client-node";
import { stringify } from "yaml";
import { KubeAnnotation, KubeLabel, kubeEnvironmentLabels } from "../../topology/kube-labels.js";
import type { ClusterPlacement, Topology } from "../../topology/model.js";
import type { KubeObject, RenderedManifests } from "../../topology/render-kubernetes.js";

// What an environment on an existing cluster has besides its services: the namespace's
// labels (owner, project, preset, expiry), a ResourceQuota and LimitRange from
// `cluster.quota` and `cluster.resources`, an Ingress on `cluster.ingress.domain`, and
// where the live sync sends the code. Pure: no cluster.

/** The Secret pods pull images with, made from the developer's docker credentials. */
export const PULL_SECRET_NAME = "prodlike-registry";
export const QUOTA_NAME = "prodlike-quota";
export const LIMITS_NAME = "prodlike-limits";

/** The labels and annotations of the environment's namespace. */
export function namespaceMarks(
  topology: Topology,
  backend: string,
): { namespaceLabels: Record<string, string>; namespaceAnnotations: Record<string, string> } {
  const { placement } = topology;
  const labels = kubeEnvironmentLabels(topology.identity, { preset: topology.preset, backend });
  if (!placement) return { namespaceLabels: labels, namespaceAnnotations: {} };
  const expires = placement.expiresAt ? Date.parse(placement.expiresAt) : Number.NaN;
  return {
    namespaceLabels: {
      ...labels,
      [KubeLabel.owner]: placement.owner,
      ...(Number.isFinite(expires)
        ? { [KubeLabel.expires]: String(Math.floor(expires / 1000)) }
        : {}),
      ...(placement.kept ? { [KubeLabel.kept]: "true" } : {}),
    },
    namespaceAnnotations: placement.expiresAt
      ? { [KubeAnnotation.expiresAt]: placement.expiresAt }
      : {},
  };
}

/** The rendered manifests with the namespace's quota, limits and Ingress added. */
export function withPlacementObjects(
  rendered: RenderedManifests,
  topology: Topology,
  placement: ClusterPlacement,
): RenderedManifests {
  const labels = kubeEnvironmentLabels(topology.identity, {
    preset: topology.preset,
    backend: "cluster",
  });
  const meta = (name: string) => ({ name, namespace: placement.namespace, labels });
  const extra: KubeObject[] = [];
  const quota = placement.quota;
  if (quota && Object.values(quota).some((value) => value !== undefined)) {
    const resourceQuota: V1ResourceQuota = {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: meta(QUOTA_NAME),
      spec: {
        hard: {
          ...(quota.cpu ? { "limits.cpu": quota.cpu } : {}),
          ...(quota.memory ? { "limits.memory": quota.memory } : {}),
          ...(quota.pods ? { pods: String(quota.pods) } : {}),
          ...(quota.storage ? { "requests.storage": quota.storage } : {}),
        },
      },
    };
    extra.push(resourceQuota);
  }
  const resources = placement.resources ?? defaultResources(quota);
  if (resources.cpu || resources.memory) {
    const limits = {
      ...(resources.cpu ? { cpu: resources.cpu } : {}),
      ...(resources.memory ? { memory: resources.memory } : {}),
    };
    const limitRange: V1LimitRange = {
      apiVersion: "v1",
      kind: "LimitRange",
      metadata: meta(LIMITS_NAME),
      spec: {
        limits: [
          {
            type: "Container",
            // client-node names the field `_default` (it serializes it as `default`).
            _default: limits,
            defaultRequest: Object.fromEntries(
              Object.entries(limits).map(([key, value]) => [key, quarterOf(value)]),
            ),
          },
        ],
      },
    };
    extra.push(limitRange);
  }
  const ingress = placement.ingress ? ingressOf(topology, placement, meta) : undefined;
  if (ingress) extra.push(ingress);
  if (extra.length === 0) return rendered;
  // Namespace-wide objects go first: a quota's defaults must be there before the pods.
  const objects = [...extra, ...rendered.objects];
  const header = rendered.yaml.startsWith("#") ? `${rendered.yaml.split("\n")[0]}\n` : "";
  return {
    ...rendered,
    objects,
    yaml: `${header}${objects.map((object) => stringify(object, { lineWidth: 0 })).join("---\n")}`,
    configHash: createHash("sha256")
      .update(`${rendered.configHash}${JSON.stringify(extra)}`)
      .digest("hex")
      .slice(0, 16),
  };
}

// A quota on limits makes every container state limits: without `resources`, the
// LimitRange gives each a modest default so pods are not refused.
function defaultResources(quota: ClusterPlacement["quota"]): { cpu?: string; memory?: string } {
  return {
    ...(quota?.cpu ? { cpu: "500m" } : {}),
    ...(quota?.memory ? { memory: "512Mi" } : {}),
  };
}

/** A quarter of a quantity (2 -> 500m, 1Gi -> 256Mi, 640Mi -> 160Mi): a container's
 *  default request. */
export function quarterOf(quantity: string): string {
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!match) return quantity;
  const value = Number(match[1]);
  const unit = match[2] ?? "";
  // In the unit the user wrote when it divides evenly: `kubectl describe limitrange`
  // shows 160Mi for 640Mi, not the equal but unreadable 163840Ki.
  if (unit !== "" && unit !== "m" && Number.isInteger(value / 4)) return `${value / 4}${unit}`;
  if (unit === "" || unit === "m") {
    const milli = unit === "m" ? value : value * 1000;
    return `${Math.max(1, Math.floor(milli / 4))}m`;
  }
  const binary = ["Ki", "Mi", "Gi", "Ti"];
  const index = binary.indexOf(unit);
  if (index > 0) return `${Math.max(1, Math.floor((value * 1024) / 4))}${binary[index - 1]}`;
  return `${value / 4}${unit}`;
}

function ingressOf(
  topology: Topology,
  placement: ClusterPlacement,
  meta: (name: string) => { name: string; namespace: string; labels: Record<string, string> },
): V1Ingress | undefined {
  const web = topology.services.find((service) =>
    service.ports.some((port) => port.protocol === "http"),
  );
  const port = web?.ports.find((candidate) => candidate.protocol === "http");
  if (!web || !port || !placement.ingress) return undefined;
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: meta("prodlike-web"),
    spec: {
      ...(placement.ingress.className ? { ingressClassName: placement.ingress.className } : {}),
      rules: [
        {
          host: ingressHost(topology, placement.ingress.domain),
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: web.name, port: { number: port.containerPort } } },
              },
            ],
          },
        },
      ],
    },
  };
}

/** ENV.PROJECT.DOMAIN: where an environment's Ingress serves it. */
export function ingressHost(topology: Pick<Topology, "identity">, domain: string): string {
  return `${topology.identity.name}.${topology.identity.project}.${domain}`;
}

/** The containers that mount the code, by workload: where the live sync sends it. */
export function syncTargets(
  objects: readonly KubernetesObject[],
): { selector: string; container: string; path: string }[] {
  const targets: { selector: string; container: string; path: string }[] = [];
  for (const object of objects) {
    if (object.kind !== "Deployment" && object.kind !== "StatefulSet") continue;
    const spec = (
      object as {
        spec?: {
          selector?: { matchLabels?: Record<string, string> };
          template?: {
            spec?: {
              containers?: { name: string; volumeMounts?: { name: string; mountPath: string }[] }[];
            };
          };
        };
      }
    ).spec;
    const selector = Object.entries(spec?.selector?.matchLabels ?? {})
      .map(([key, value]) => `${key}=${value}`)
      .join(",");
    // One container per pod: the pod's containers share its code volume.
    for (const container of spec?.template?.spec?.containers ?? []) {
      const mount = container.volumeMounts?.find((candidate) => candidate.name === "code");
      if (!mount) continue;
      targets.push({ selector, container: container.name, path: mount.mountPath });
      break;
    }
  }
  return targets;
}
