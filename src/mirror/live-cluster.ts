import type { ManifestDocument, ManifestObject } from "./manifests.js";
import { SUPPORTED_KINDS } from "./manifests.js";

// Production's objects read from a live cluster, read-only: one `list` per kind in one
// namespace, nothing else. What the cluster made by itself (pods' owners' children, the
// default ServiceAccount, token Secrets, Helm's release records, the root CA ConfigMap)
// and what the server adds to every object (status, uid, managedFields, …) are left out,
// so the documents read like the manifests that were applied.

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
  const documents: ManifestDocument[] = [];
  for (const [kind, versions] of Object.entries(SUPPORTED_KINDS)) {
    const apiVersion = versions[0] ?? "v1";
    const { items } = await client.list(apiVersion, kind, where.namespace);
    for (const item of items) {
      const object = { ...(item as ManifestObject), apiVersion, kind };
      if (madeByTheCluster(object)) continue;
      documents.push({ source, index: documents.length + 1, object: asApplied(object) });
    }
  }
  return documents;
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
  return { ...rest, metadata: metadata as ManifestObject["metadata"] };
}
