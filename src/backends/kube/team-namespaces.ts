import type { V1Namespace } from "@kubernetes/client-node";
import { FIELD_MANAGER, KubeAnnotation, KubeLabel } from "../../topology/kube-labels.js";
import { byCodePoint } from "../../ui/text-order.js";
import type { KubeApi } from "./kube-api.js";

// The environments on a team's cluster, whoever made them: the namespaces prodlike
// created and labelled (existing-cluster.ts), read back from their labels alone. `gc`
// deletes those whose lifetime is over; a namespace without prodlike's labels is never
// listed, so never deleted, whatever its name.

export interface TeamNamespace {
  context: string;
  namespace: string;
  /** The environment's id (PROJECT-NAME). */
  env: string;
  project: string;
  preset: string;
  /** user.host of whoever made it. */
  owner: string;
  /** When its lifetime ends (`up --ttl`); none: it lives until destroyed. */
  expiresAt?: string;
  /** `prodlike keep`: gc leaves it. */
  kept: boolean;
  /** Deleted, the cluster finalizing it. */
  terminating: boolean;
}

/** The namespaces prodlike made on the cluster `api` reaches (named `context`). */
export async function listTeamNamespaces(api: KubeApi, context: string): Promise<TeamNamespace[]> {
  const listed = (await api.list(
    "v1",
    "Namespace",
    "",
    `${KubeLabel.managedBy}=${FIELD_MANAGER}`,
  )) as V1Namespace[];
  return listed
    .flatMap((object) => {
      const found = teamNamespaceOf(object, context);
      return found ? [found] : [];
    })
    .sort((a, b) => byCodePoint(a.namespace, b.namespace));
}

/** A namespace as a team environment; undefined unless prodlike made it for one (the
 *  managed-by, environment and owner labels all there). */
export function teamNamespaceOf(object: V1Namespace, context: string): TeamNamespace | undefined {
  const labels = object.metadata?.labels ?? {};
  const env = labels[KubeLabel.env];
  const owner = labels[KubeLabel.owner];
  const name = object.metadata?.name;
  if (labels[KubeLabel.managedBy] !== FIELD_MANAGER || !env || !owner || !name) return undefined;
  const expiresAt = expiryOf(object);
  return {
    context,
    namespace: name,
    env,
    project: labels[KubeLabel.project] ?? "",
    preset: labels[KubeLabel.preset] ?? "",
    owner,
    ...(expiresAt ? { expiresAt } : {}),
    kept: labels[KubeLabel.kept] === "true",
    terminating: object.metadata?.deletionTimestamp !== undefined,
  };
}

// The label is authoritative (seconds since 1970: label values cannot hold an ISO time);
// the annotation only says it readably.
function expiryOf(object: V1Namespace): string | undefined {
  const seconds = Number(object.metadata?.labels?.[KubeLabel.expires]);
  if (Number.isFinite(seconds) && seconds > 0) return new Date(seconds * 1000).toISOString();
  const annotated = object.metadata?.annotations?.[KubeAnnotation.expiresAt];
  return annotated && !Number.isNaN(Date.parse(annotated)) ? annotated : undefined;
}

/** Whether gc may delete it now: its lifetime over, not kept, not already going. */
export function isExpired(found: TeamNamespace, now: number): boolean {
  return (
    !found.kept &&
    !found.terminating &&
    found.expiresAt !== undefined &&
    Date.parse(found.expiresAt) <= now
  );
}

/** Deletes an expired namespace, read again first: its owner may have kept it or given it
 *  more time since the listing. The cluster finalizes it (every object in it) on its own.
 *  Resolves whether it was deleted. */
export async function deleteExpired(
  api: KubeApi,
  found: TeamNamespace,
  now: number,
): Promise<boolean> {
  const live = await api.read<V1Namespace>("v1", "Namespace", "", found.namespace);
  const current = live ? teamNamespaceOf(live, found.context) : undefined;
  if (!current || current.env !== found.env || !isExpired(current, now)) return false;
  return api.remove("v1", "Namespace", "", found.namespace);
}

/** Writes a lifetime changed without an `up` (`keep`, `ttl`) onto the namespace, where
 *  everyone's `gc` reads it: the expiry (none: removed) and whether it is kept. */
export async function markLifetime(
  api: KubeApi,
  namespace: string,
  lifetime: { expiresAt: string | undefined; kept: boolean },
): Promise<void> {
  const expires = lifetime.expiresAt ? Date.parse(lifetime.expiresAt) : Number.NaN;
  const known = Number.isFinite(expires);
  await api.mergePatch(
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
    {
      // A merge patch's null removes the key.
      metadata: {
        name: namespace,
        labels: {
          [KubeLabel.expires]: known ? String(Math.floor(expires / 1000)) : null,
          [KubeLabel.kept]: lifetime.kept ? "true" : null,
        },
        annotations: { [KubeAnnotation.expiresAt]: known ? lifetime.expiresAt : null },
      },
    },
  );
}
