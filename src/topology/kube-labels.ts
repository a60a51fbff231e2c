import type { EnvironmentIdentity } from "./model.js";

// Label and annotation keys on every Kubernetes object prodlike applies. Kubernetes keys
// take a DNS prefix, so these are the compose labels' names under `prodlike.dev/`.
export const KubeLabel = {
  env: "prodlike.dev/env",
  project: "prodlike.dev/project",
  name: "prodlike.dev/name",
  preset: "prodlike.dev/preset",
  backend: "prodlike.dev/backend",
  service: "prodlike.dev/service",
  role: "prodlike.dev/role",
  /** An existing cluster's namespace: who made it (user.host, label-safe). */
  owner: "prodlike.dev/owner",
  /** An existing cluster's namespace: when its lifetime ends, in seconds since 1970
   *  (`up --ttl`; `gc` deletes it after). */
  expires: "prodlike.dev/expires",
  /** An existing cluster's namespace: `prodlike keep` (gc leaves it, whoever runs gc). */
  kept: "prodlike.dev/kept",
  /** The recommended labels, so kubectl and dashboards group the objects too. */
  appName: "app.kubernetes.io/name",
  appInstance: "app.kubernetes.io/instance",
  partOf: "app.kubernetes.io/part-of",
  managedBy: "app.kubernetes.io/managed-by",
} as const;

export const KubeAnnotation = {
  /** A path is no valid label value, so the code root is an annotation. */
  codeRoot: "prodlike.dev/code-root",
  /** On pod templates: a changed ConfigMap or Secret rolls the pods (subPath mounts
   *  never see updates). */
  configHash: "prodlike.dev/config-hash",
  /** On pod templates: each container's own role (`web=web,php-fpm=php`); the role label
   *  joins a pod's roles (`web-php`), which names no service's role. */
  roles: "prodlike.dev/roles",
  /** An existing cluster's namespace: its lifetime's end, readable (ISO 8601). */
  expiresAt: "prodlike.dev/expires-at",
} as const;

/** The container -> role map of a pod's roles annotation. */
export function containerRoles(annotation: string | undefined): Record<string, string> {
  const roles: Record<string, string> = {};
  for (const pair of (annotation ?? "").split(",")) {
    const [container, role] = pair.split("=");
    if (container && role) roles[container] = role;
  }
  return roles;
}

export const FIELD_MANAGER = "prodlike";

export function kubeEnvironmentLabels(
  identity: EnvironmentIdentity,
  extra: { preset: string; backend: string },
): Record<string, string> {
  return {
    [KubeLabel.managedBy]: FIELD_MANAGER,
    [KubeLabel.partOf]: identity.project,
    [KubeLabel.env]: identity.id,
    [KubeLabel.project]: identity.project,
    [KubeLabel.name]: identity.name,
    [KubeLabel.preset]: extra.preset,
    [KubeLabel.backend]: extra.backend,
  };
}
