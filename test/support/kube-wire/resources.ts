// The resource types the double serves, and its discovery documents (/api, /apis, one
// APIResourceList per group version) in the shapes kube-apiserver sends them: client-node's
// KubernetesObjectApi reads a group version's list to find a kind's plural and scope.

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Subresources beside the main resource (pods/log, pods/exec…). */
  subresources?: readonly string[];
}

const CRUD = ["create", "delete", "get", "list", "patch", "update", "watch"];

export const RESOURCES: readonly ResourceType[] = [
  { group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false },
  {
    group: "",
    version: "v1",
    kind: "Pod",
    plural: "pods",
    namespaced: true,
    subresources: ["log", "exec", "attach", "portforward", "status"],
  },
  { group: "", version: "v1", kind: "Service", plural: "services", namespaced: true },
  { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true },
  { group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true },
  {
    group: "",
    version: "v1",
    kind: "PersistentVolumeClaim",
    plural: "persistentvolumeclaims",
    namespaced: true,
  },
  {
    group: "",
    version: "v1",
    kind: "PersistentVolume",
    plural: "persistentvolumes",
    namespaced: false,
  },
  { group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true },
  { group: "", version: "v1", kind: "ResourceQuota", plural: "resourcequotas", namespaced: true },
  { group: "", version: "v1", kind: "LimitRange", plural: "limitranges", namespaced: true },
  { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true },
  { group: "apps", version: "v1", kind: "Deployment", plural: "deployments", namespaced: true },
  { group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets", namespaced: true },
  { group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", namespaced: true },
  { group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets", namespaced: true },
  { group: "batch", version: "v1", kind: "Job", plural: "jobs", namespaced: true },
  { group: "batch", version: "v1", kind: "CronJob", plural: "cronjobs", namespaced: true },
  {
    group: "networking.k8s.io",
    version: "v1",
    kind: "Ingress",
    plural: "ingresses",
    namespaced: true,
  },
  {
    group: "networking.k8s.io",
    version: "v1",
    kind: "NetworkPolicy",
    plural: "networkpolicies",
    namespaced: true,
  },
  {
    group: "policy",
    version: "v1",
    kind: "PodDisruptionBudget",
    plural: "poddisruptionbudgets",
    namespaced: true,
  },
  {
    group: "authorization.k8s.io",
    version: "v1",
    kind: "SelfSubjectAccessReview",
    plural: "selfsubjectaccessreviews",
    namespaced: false,
  },
  {
    group: "autoscaling",
    version: "v2",
    kind: "HorizontalPodAutoscaler",
    plural: "horizontalpodautoscalers",
    namespaced: true,
  },
];

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export function typeOfKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((type) => apiVersionOf(type) === apiVersion && type.kind === kind);
}

export function typeOfPlural(group: string, version: string, plural: string) {
  return RESOURCES.find(
    (type) => type.group === group && type.version === version && type.plural === plural,
  );
}

/** GET /api */
export function coreVersions(serverAddress: string) {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

/** GET /apis */
export function groupList() {
  const groups = [...new Set(RESOURCES.filter((type) => type.group).map((type) => type.group))];
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: groups.map((name) => {
      const version = RESOURCES.find((type) => type.group === name)?.version ?? "v1";
      const groupVersion = { groupVersion: `${name}/${version}`, version };
      return { name, versions: [groupVersion], preferredVersion: groupVersion };
    }),
  };
}

/** GET /api/v1 or /apis/GROUP/VERSION; undefined when the double serves no such version. */
export function resourceList(group: string, version: string) {
  const types = RESOURCES.filter((type) => type.group === group && type.version === version);
  if (types.length === 0) return undefined;
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group ? `${group}/${version}` : version,
    resources: types.flatMap((type) => [
      {
        name: type.plural,
        singularName: type.kind.toLowerCase(),
        namespaced: type.namespaced,
        kind: type.kind,
        verbs: CRUD,
      },
      ...(type.subresources ?? []).map((sub) => ({
        name: `${type.plural}/${sub}`,
        singularName: "",
        namespaced: type.namespaced,
        kind: sub === "status" ? type.kind : "PodExecOptions",
        verbs: sub === "log" || sub === "status" ? ["get"] : ["create", "get"],
      })),
    ]),
  };
}
