import { apiFailureText, reviewClusterAccess } from "../backends/kube/access-review.js";
import {
  CLUSTER_PERMISSIONS,
  describeCheck,
  minimalRbacYaml,
  type PermissionCheck,
} from "../backends/kube/cluster-permissions.js";
import type { BackendName } from "../config/backend-registry.js";
import { answerWithin } from "../waits/answer-within.js";
import { configuredContext, defaultNamespace } from "./cluster-placement.js";
import type { Check } from "./doctor-check.js";
import { resolveTarget } from "./plan.js";
import type { CoreServices } from "./services.js";
import { CONTEXT_TIMEOUT_MS } from "./team-clusters.js";

// `prodlike doctor --backend cluster`: whether the configured context's user may do what
// the backend does (cluster-permissions.ts), asked of the cluster itself, and the minimal
// RBAC to ask an administrator for.

export interface AccessReport {
  context?: string;
  namespace?: string;
  /** Whether the API answered at all. */
  reachable: boolean;
  denied: (PermissionCheck & { reason?: string })[];
  /** The minimal ClusterRole/Role YAML the backend needs. */
  rbac: string;
}

export async function clusterAccessChecks(
  services: CoreServices,
  backend: BackendName,
  dir: string,
): Promise<{ checks: Check[]; access: AccessReport }> {
  const failed = (name: string, detail: string, hint: string, access: Partial<AccessReport>) => ({
    checks: [{ name, ok: false, detail, hint, neededBy: [backend] }],
    access: { reachable: false, denied: [], rbac: minimalRbacYaml(), ...access },
  });
  let context: string;
  let namespace: string;
  let fixed: string | undefined;
  try {
    const target = await resolveTarget(services, { dir });
    const settings = target.loaded.config.cluster;
    context = await configuredContext(services.kubeconfigPath, settings?.context);
    fixed = settings?.namespace;
    namespace = fixed ?? defaultNamespace(target.identity.id);
  } catch (error) {
    return failed(
      "cluster context",
      apiFailureText(error),
      "Name it in prodlike.yaml (`cluster: { context: CONTEXT }`) or make it kubectl's current context.",
      {},
    );
  }
  const rbac = minimalRbacYaml(fixed);
  let verdicts: Awaited<ReturnType<typeof reviewClusterAccess>>;
  try {
    verdicts = await answerWithin(
      services
        .kube(services.kubeconfigPath, context)
        .then((api) => reviewClusterAccess(api, namespace)),
      CONTEXT_TIMEOUT_MS,
      context,
    );
  } catch (error) {
    return failed(
      `cluster API (${context})`,
      `not reachable: ${apiFailureText(error)}`,
      `Check the context's server and credentials: kubectl --context ${context} version`,
      { context, namespace, rbac },
    );
  }
  const denied = verdicts
    .filter((verdict) => !verdict.allowed)
    .map((verdict) => ({
      ...verdict.check,
      ...(verdict.reason ? { reason: verdict.reason } : {}),
    }));
  const checks: Check[] = [
    { name: `cluster API (${context})`, ok: true, detail: "answers", neededBy: [backend] },
    ...CLUSTER_PERMISSIONS.map((permission): Check => {
      const mine = denied.filter(
        (check) =>
          check.group === permission.group &&
          [check.resource, check.subresource].filter(Boolean).join("/") === permission.resource,
      );
      const name = `may ${permission.verbs.join(",")} ${permission.group ? `${permission.group}/` : ""}${permission.resource}`;
      if (mine.length === 0) {
        const where = permission.scope === "namespace" ? `in ${namespace}` : "cluster-wide";
        return { name, ok: true, detail: `allowed ${where}`, neededBy: [backend] };
      }
      return {
        name,
        ok: false,
        detail: mine
          .map(
            (check) => `denied: ${describeCheck(check)}${check.reason ? ` (${check.reason})` : ""}`,
          )
          .join("; "),
        hint: `Needed for ${permission.why}.`,
        neededBy: [backend],
      };
    }),
  ];
  return { checks, access: { context, namespace, reachable: true, denied, rbac } };
}
