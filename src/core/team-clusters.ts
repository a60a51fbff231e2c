import { apiFailureText } from "../backends/kube/access-review.js";
import type { KubeApi } from "../backends/kube/kube-api.js";
import {
  deleteExpired,
  isExpired,
  listTeamNamespaces,
  type TeamNamespace,
} from "../backends/kube/team-namespaces.js";
import { BACKEND_NAMES, type BackendName, backendInfo } from "../config/backend-registry.js";
import { loadConfig } from "../config/load-config.js";
import { stateDir, userClusters } from "../config/user-settings.js";
import { EnvironmentRecords } from "../env/environment-records.js";
import { byCodePoint } from "../ui/text-order.js";
import { answerWithin } from "../waits/answer-within.js";
import { configuredContext } from "./cluster-placement.js";
import type { CoreServices } from "./services.js";

// The team clusters this user looks at (`ls`, `gc`): the project's `cluster.context`, the
// contexts of their own recorded environments, and the ones user settings list
// (`clusters:`). Everyone's environments there are read from their namespaces' labels; a
// context that does not answer becomes a warning, never the whole listing's failure.

export interface TeamContext {
  kubeconfig: string;
  context: string;
}

export interface TeamWarning {
  context: string;
  problem: string;
}

export interface TeamEnvironment extends TeamNamespace {
  /** One of this user's recorded environments (its own `gc` and `keep` apply). */
  recorded: boolean;
}

export interface TeamListing {
  environments: TeamEnvironment[];
  warnings: TeamWarning[];
}

/** How long one context may take to answer before it is a warning. */
export const CONTEXT_TIMEOUT_MS = 15_000;

/** Lifecycles whose namespaces are shared with a team: the registry says which. */
const sharedBackends = new Set<BackendName>(
  BACKEND_NAMES.filter((name) => backendInfo(name).cluster?.lifecycle === "existing"),
);

export async function teamContexts(
  services: CoreServices,
  dir: string | undefined,
): Promise<{ contexts: TeamContext[]; recorded: Set<string>; warnings: TeamWarning[] }> {
  const warnings: TeamWarning[] = [];
  const found: TeamContext[] = [];
  const records = (await new EnvironmentRecords(stateDir(services.env)).list()).filter((record) =>
    sharedBackends.has(record.backend),
  );
  for (const record of records)
    found.push({ kubeconfig: record.kubeconfig, context: record.context });
  if (dir !== undefined) {
    try {
      const { config } = await loadConfig(dir, services.env);
      if (config.cluster || (config.backend && sharedBackends.has(config.backend))) {
        found.push({
          kubeconfig: services.kubeconfigPath,
          context: await configuredContext(services.kubeconfigPath, config.cluster?.context),
        });
      }
    } catch (error) {
      warnings.push({ context: "prodlike.yaml", problem: apiFailureText(error) });
    }
  }
  try {
    for (const cluster of await userClusters(services.env))
      found.push({
        kubeconfig: cluster.kubeconfig ?? services.kubeconfigPath,
        context: cluster.context,
      });
  } catch (error) {
    warnings.push({ context: "user settings", problem: apiFailureText(error) });
  }
  const contexts = [...new Map(found.map((entry) => [contextKey(entry), entry])).values()];
  const recorded = new Set(records.map((record) => placeKey(record.context, record.namespace)));
  return { contexts, recorded, warnings };
}

/** Every prodlike namespace on every team context, with a warning per context that did
 *  not answer. */
export async function listTeam(services: CoreServices, dir: string | undefined) {
  const { contexts, recorded, warnings } = await teamContexts(services, dir);
  const reached: { api: KubeApi; environments: TeamEnvironment[] }[] = [];
  await Promise.all(
    contexts.map(async (place) => {
      try {
        reached.push(await listTeamContext(services, place, recorded));
      } catch (error) {
        warnings.push({ context: place.context, problem: apiFailureText(error) });
      }
    }),
  );
  const listing: TeamListing = {
    environments: reached.flatMap((entry) => entry.environments).sort(byPlace),
    warnings: warnings.sort((a, b) => byCodePoint(a.context, b.context)),
  };
  return { listing, reached };
}

/** One context's prodlike namespaces (one list call), `recorded` marking this user's own;
 *  rejects when the context does not answer within CONTEXT_TIMEOUT_MS or refuses. The
 *  dashboard polls each context alone, so a silent one delays no other. */
export async function listTeamContext(
  services: CoreServices,
  { kubeconfig, context }: TeamContext,
  recorded: ReadonlySet<string>,
): Promise<{ api: KubeApi; environments: TeamEnvironment[] }> {
  const api = await services.kube(kubeconfig, context);
  const listed = await answerWithin(listTeamNamespaces(api, context), CONTEXT_TIMEOUT_MS, context);
  return {
    api,
    environments: listed.map((found) => ({
      ...found,
      recorded: recorded.has(placeKey(found.context, found.namespace)),
    })),
  };
}

/** Why a context gave no listing, as a warning line says it. */
export const teamProblem = apiFailureText;

/** One team context, as a key (the same context name may be in two kubeconfigs). */
export function contextKey({ kubeconfig, context }: TeamContext): string {
  return `${kubeconfig}\0${context}`;
}

/** Team rows in the order they are shown: by context, then namespace. */
export function byPlace(
  a: { context: string; namespace: string },
  b: { context: string; namespace: string },
): number {
  return byCodePoint(a.context, b.context) || byCodePoint(a.namespace, b.namespace);
}

/** `ls`'s team rows: none when `--backend` names a backend of this machine alone. */
export async function teamListing(
  services: CoreServices,
  dir: string | undefined,
  backend: BackendName | undefined,
): Promise<TeamListing> {
  if (backend && !sharedBackends.has(backend)) return { environments: [], warnings: [] };
  return (await listTeam(services, dir)).listing;
}

export interface TeamGcEntry {
  context: string;
  namespace: string;
  env: string;
  owner: string;
  expiresAt: string;
  /** Deleted now (absent with --dry-run; false when its owner changed it meanwhile, or
   *  the deletion failed: then `problem` says why). */
  deleted?: boolean;
  problem?: string;
}

// Someone's expired namespaces on the team clusters. This user's own recorded
// environments are left to the local gc (it removes their records and images too, and
// honours a `keep` made after their last `up`).
export async function teamGc(
  services: CoreServices,
  request: { dryRun: boolean; dir: string | undefined },
): Promise<{ namespaces: TeamGcEntry[]; warnings: TeamWarning[] }> {
  const { listing, reached } = await listTeam(services, request.dir);
  const now = services.clock.now();
  const namespaces: TeamGcEntry[] = [];
  for (const { api, environments } of reached) {
    for (const found of environments) {
      if (found.recorded || !isExpired(found, now) || !found.expiresAt) continue;
      const entry: TeamGcEntry = {
        context: found.context,
        namespace: found.namespace,
        env: found.env,
        owner: found.owner,
        expiresAt: found.expiresAt,
      };
      if (!request.dryRun) {
        try {
          entry.deleted = await deleteExpired(api, found, now);
        } catch (error) {
          // Refused (RBAC) or failed: said with the entry; the others go on.
          entry.deleted = false;
          entry.problem = apiFailureText(error);
        }
      }
      namespaces.push(entry);
    }
  }
  return { namespaces, warnings: listing.warnings };
}

function placeKey(context: string, namespace: string): string {
  return `${context}\0${namespace}`;
}
