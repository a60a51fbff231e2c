import { type PermissionCheck, permissionChecks } from "./cluster-permissions.js";
import type { KubeApi } from "./kube-api.js";

// Asks the cluster, as the configured context's user, whether each right of
// cluster-permissions.ts is granted (SelfSubjectAccessReview: the API server's own
// authorizer answers, whatever RBAC, webhook or ABAC setup it has).

export interface AccessVerdict {
  check: PermissionCheck;
  allowed: boolean;
  /** The authorizer's words, when it gave any. */
  reason?: string;
}

/** Every verb the backend needs, reviewed; namespaced ones in `namespace` (which need not
 *  exist yet). Throws what the API throws when it cannot be asked at all. */
export async function reviewClusterAccess(
  api: KubeApi,
  namespace: string,
): Promise<AccessVerdict[]> {
  const checks = permissionChecks(namespace);
  // One first: an unreachable API or a refused token fails once, not forty times.
  const [first, ...rest] = checks;
  if (!first) return [];
  const verdicts = [await review(api, first)];
  verdicts.push(...(await Promise.all(rest.map((check) => review(api, check)))));
  return verdicts;
}

async function review(api: KubeApi, check: PermissionCheck): Promise<AccessVerdict> {
  const answer = await api.canI(check);
  return { check, allowed: answer.allowed, ...(answer.reason ? { reason: answer.reason } : {}) };
}

/** What a failed API call says, in one line: client-node's errors carry the HTTP code
 *  and the Status object's message in its body. */
export function apiFailureText(error: unknown): string {
  const failure = error as { code?: unknown; body?: unknown; message?: unknown } | null;
  const code = typeof failure?.code === "number" ? failure.code : undefined;
  const body = parseBody(failure?.body);
  const message =
    body?.message ?? (typeof failure?.message === "string" ? failure.message : String(error));
  const line = message.split("\n")[0] ?? message;
  return code ? `HTTP ${code}: ${body?.message ?? line.replace(/^HTTP-Code: \d+\s*/, "")}` : line;
}

function parseBody(body: unknown): { message?: string } | undefined {
  if (typeof body === "object" && body !== null) return body as { message?: string };
  if (typeof body !== "string") return undefined;
  try {
    return JSON.parse(body) as { message?: string };
  } catch {
    return undefined;
  }
}
