import { Document, isScalar, visit } from "yaml";

// What `--backend cluster` asks of a team's cluster, in one table: doctor reviews each
// verb with SelfSubjectAccessReview, and the minimal RBAC an administrator grants is
// rendered from it (docs/clusters.md shows that rendering; a unit test keeps them equal).
// Each row names the calls that need it, so a new call changes this table too; the
// cluster-wire-team integration test runs the backend under exactly these rights.

export interface ClusterPermission {
  /** The API group ("" for the core group). */
  group: string;
  /** A resource, or RESOURCE/SUBRESOURCE (`pods/exec`). */
  resource: string;
  verbs: readonly string[];
  /** Cluster-scoped, or inside the environment's namespace. */
  scope: "cluster" | "namespace";
  /** Which of prodlike's calls need it. */
  why: string;
}

// Server-side apply is a PATCH, and a PATCH that creates the object also needs `create`.
const APPLIED = ["create", "patch"] as const;

export const CLUSTER_PERMISSIONS: readonly ClusterPermission[] = [
  {
    group: "",
    resource: "namespaces",
    verbs: ["get", "list", "create", "patch", "delete"],
    scope: "cluster",
    why: "up creates and labels the environment's namespace, destroy and gc delete it, ls and gc list the labelled ones",
  },
  {
    group: "apps",
    resource: "deployments",
    verbs: ["get", "list", ...APPLIED],
    scope: "namespace",
    why: "applied, read for the rollout, listed and scaled by down",
  },
  {
    group: "apps",
    resource: "statefulsets",
    verbs: ["get", "list", ...APPLIED],
    scope: "namespace",
    why: "applied, read for the rollout, listed and scaled by down",
  },
  {
    group: "batch",
    resource: "cronjobs",
    verbs: ["list", ...APPLIED],
    scope: "namespace",
    why: "applied, listed and suspended by down",
  },
  {
    group: "batch",
    resource: "jobs",
    verbs: ["get", "list", ...APPLIED],
    scope: "namespace",
    why: "run-once services: applied unless one ran already",
  },
  {
    group: "",
    resource: "services",
    verbs: ["get", ...APPLIED],
    scope: "namespace",
    why: "applied; the session's port-forwards read a Service's selector to find its pods",
  },
  { group: "", resource: "configmaps", verbs: APPLIED, scope: "namespace", why: "applied" },
  {
    group: "",
    resource: "secrets",
    verbs: APPLIED,
    scope: "namespace",
    why: "the database credentials and the registry pull Secret",
  },
  {
    group: "",
    resource: "persistentvolumeclaims",
    verbs: APPLIED,
    scope: "namespace",
    why: "the database's claim",
  },
  {
    group: "",
    resource: "resourcequotas",
    verbs: APPLIED,
    scope: "namespace",
    why: "cluster.quota",
  },
  {
    group: "",
    resource: "limitranges",
    verbs: APPLIED,
    scope: "namespace",
    why: "cluster.resources",
  },
  {
    group: "networking.k8s.io",
    resource: "ingresses",
    verbs: APPLIED,
    scope: "namespace",
    why: "cluster.ingress",
  },
  {
    group: "",
    resource: "pods",
    verbs: ["list", "delete"],
    scope: "namespace",
    why: "status, waits, exec and logs find pods; a service restart deletes one",
  },
  {
    group: "",
    resource: "pods/log",
    verbs: ["get"],
    scope: "namespace",
    why: "logs, failed waits",
  },
  {
    group: "",
    resource: "pods/exec",
    // `create` since Kubernetes 1.30 authorizes the websocket upgrade as such; older
    // servers ask for `get`.
    verbs: ["create", "get"],
    scope: "namespace",
    why: "exec, shell, drush, db and the live sync",
  },
  {
    group: "",
    resource: "pods/portforward",
    verbs: ["create", "get"],
    scope: "namespace",
    why: "the session's port-forwards",
  },
  { group: "", resource: "events", verbs: ["list"], scope: "namespace", why: "why a pod failed" },
];

/** One SelfSubjectAccessReview's attributes. */
export interface PermissionCheck {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** Empty for a cluster-scoped resource. */
  namespace: string;
}

/** Every verb of the table as a review, namespaced ones in `namespace`. */
export function permissionChecks(namespace: string): PermissionCheck[] {
  return CLUSTER_PERMISSIONS.flatMap((permission) => {
    const [resource = "", subresource] = permission.resource.split("/");
    return permission.verbs.map((verb) => ({
      verb,
      group: permission.group,
      resource,
      ...(subresource ? { subresource } : {}),
      namespace: permission.scope === "namespace" ? namespace : "",
    }));
  });
}

/** `verb group/resource`, as an administrator reads it (`create apps/deployments`). */
export function describeCheck(check: PermissionCheck): string {
  const resource = check.subresource ? `${check.resource}/${check.subresource}` : check.resource;
  const where = check.namespace ? ` in ${check.namespace}` : " (cluster-wide)";
  return `${check.verb} ${check.group ? `${check.group}/` : ""}${resource}${where}`;
}

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

// Rows with the same group and verbs share a rule, as a hand-written Role would.
function rules(scope: ClusterPermission["scope"]): PolicyRule[] {
  const merged: PolicyRule[] = [];
  for (const permission of CLUSTER_PERMISSIONS.filter((row) => row.scope === scope)) {
    const same = merged.find(
      (rule) =>
        rule.apiGroups[0] === permission.group &&
        rule.verbs.join() === [...permission.verbs].join(),
    );
    if (same) same.resources.push(permission.resource);
    else
      merged.push({
        apiGroups: [permission.group],
        resources: [permission.resource],
        verbs: [...permission.verbs],
      });
  }
  return merged;
}

/** The minimal RBAC as YAML: a ClusterRole for the namespaces themselves, and the rights
 *  inside them: a ClusterRole (a namespace per environment: RBAC cannot match a name
 *  prefix, so it is bound cluster-wide) or, for one fixed `cluster.namespace`, a Role in
 *  it. The bindings are the administrator's (which group or users). */
export function minimalRbacYaml(fixedNamespace?: string): string {
  const namespaces = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "prodlike-namespaces" },
    rules: rules("cluster"),
  };
  const inside = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: fixedNamespace ? "Role" : "ClusterRole",
    metadata: {
      name: "prodlike-environment",
      ...(fixedNamespace ? { namespace: fixedNamespace } : {}),
    },
    rules: rules("namespace"),
  };
  return [namespaces, inside].map(asYaml).join("---\n");
}

// Lists of names on one line (`verbs: [get, list]`), as RBAC is written by hand.
function asYaml(object: object): string {
  const document = new Document(object);
  visit(document, {
    Seq(_key, node) {
      if (node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
  return document.toString({ flowCollectionPadding: false, lineWidth: 0 });
}
