import type { ManifestDocument, ManifestObject } from "./manifests.js";
import { SUPPORTED_KINDS } from "./manifests.js";

// Production's objects read from a live cluster, read-only: one `list` per kind in one
// namespace, nothing else. What the cluster made by itself (pods' owners' children, the
// default ServiceAccount, token Secrets, Helm's release records, the root CA ConfigMap, a
// StatefulSet's claims) and what the server adds to objects (status, uid, managedFields,
// a Service's cluster IPs, a claim's volume, bind annotations and protection finalizers)
// are left out, so the documents read like the manifests that were applied.

const GENERATED_SECRET_TYPES = new Set([
  "kubernetes.io/service-account-token",
  "helm.sh/release.v1",
]);
const SERVER_FIELDS = [
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "managedFields",
  "selfLink",
];
const SERVER_ANNOTATIONS = [
  "kubectl.kubernetes.io/last-applied-configuration",
  "deployment.kubernetes.io/revision",
  // A claim's binding, made by the volume controller and the provisioner.
  "pv.kubernetes.io/bind-completed",
  "pv.kubernetes.io/bound-by-controller",
  "volume.beta.kubernetes.io/storage-provisioner",
  "volume.kubernetes.io/storage-provisioner",
  "volume.kubernetes.io/selected-node",
];

/** What reading needs of a cluster client: a list of one kind in one namespace (the
 *  backends' client-node adapter is one; core passes it in). */
export interface ObjectLister {
  list(apiVersion: string, kind: string, namespace: string): Promise<{ items: unknown[] }>;
}

export async function readCluster(
  client: ObjectLister,
  where: { context: string; namespace: string },
): Promise<ManifestDocument[]> {
  const source = `cluster ${where.context}/${where.namespace}`;
  const listed: ManifestObject[] = [];
  for (const [kind, versions] of Object.entries(SUPPORTED_KINDS)) {
    const apiVersion = versions[0] ?? "v1";
    const { items } = await client.list(apiVersion, kind, where.namespace);
    for (const item of items) listed.push({ ...(item as ManifestObject), apiVersion, kind });
  }
  const claimsOfSets = statefulSetClaims(listed);
  return listed
    .filter((object) => !madeByTheCluster(object) && !claimsOfSets.has(nameOf(object)))
    .map((object, index) => ({ source, index: index + 1, object: asApplied(object) }));
}

// A StatefulSet's claims (TEMPLATE-SET-ORDINAL) are made by its controller from its
// volumeClaimTemplates, without an owner: applied as objects of their own they would
// bind before the set and outlive it.
function statefulSetClaims(objects: readonly ManifestObject[]): Set<string> {
  const names = new Set<string>();
  const claims = objects.filter((object) => object.kind === "PersistentVolumeClaim");
  for (const set of objects.filter((object) => object.kind === "StatefulSet")) {
    const spec = set.spec as { volumeClaimTemplates?: { metadata?: { name?: string } }[] };
    for (const template of spec?.volumeClaimTemplates ?? []) {
      const prefix = `${template.metadata?.name}-${nameOf(set)}-`;
      for (const claim of claims)
        if (nameOf(claim).startsWith(prefix) && /^\d+$/.test(nameOf(claim).slice(prefix.length)))
          names.add(nameOf(claim));
    }
  }
  return names;
}

function nameOf(object: ManifestObject): string {
  return (object.metadata as { name: string }).name;
}

function madeByTheCluster(object: ManifestObject): boolean {
  const metadata = object.metadata as { ownerReferences?: unknown[]; name: string };
  if ((metadata.ownerReferences ?? []).length > 0) return true;
  if (object.kind === "ServiceAccount" && metadata.name === "default") return true;
  if (object.kind === "ConfigMap" && metadata.name === "kube-root-ca.crt") return true;
  if (object.kind === "Secret" && GENERATED_SECRET_TYPES.has(String(object.type ?? "")))
    return true;
  return false;
}

function asApplied(object: ManifestObject): ManifestObject {
  const { status: _status, ...rest } = object as ManifestObject & { status?: unknown };
  const metadata: Record<string, unknown> = { ...rest.metadata };
  for (const field of SERVER_FIELDS) delete metadata[field];
  const annotations = { ...((metadata.annotations as Record<string, string> | undefined) ?? {}) };
  for (const key of SERVER_ANNOTATIONS) delete annotations[key];
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  else delete metadata.annotations;
  // Protection finalizers the controllers add (a claim in use, a load balancer).
  const finalizers = ((metadata.finalizers as string[] | undefined) ?? []).filter(
    (finalizer) =>
      !finalizer.startsWith("kubernetes.io/") && !finalizer.includes(".kubernetes.io/"),
  );
  if (finalizers.length > 0) metadata.finalizers = finalizers;
  else delete metadata.finalizers;
  const spec = withoutAllocations(rest.kind, rest.spec);
  return {
    ...rest,
    metadata: metadata as ManifestObject["metadata"],
    ...(spec === undefined ? {} : { spec }),
  };
}

// What the API server allocated in a spec: a Service's cluster IPs (a headless Service's
// `None` is the author's), a claim's bound volume. Another cluster has neither.
function withoutAllocations(kind: string, spec: unknown): unknown {
  if (typeof spec !== "object" || spec === null) return spec;
  const copy = { ...(spec as Record<string, unknown>) };
  if (kind === "Service" && copy.clusterIP !== "None") {
    delete copy.clusterIP;
    delete copy.clusterIPs;
  }
  if (kind === "PersistentVolumeClaim") delete copy.volumeName;
  return copy;
}
