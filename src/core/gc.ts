import { type Expiry, type ExpiryStore, expiredAmong } from "../env/expiry.js";
import type { Progress } from "../ui/steps.js";
import { list, whileLocked } from "./environments.js";
import { type RemovalReport, removeEnvironment } from "./operations.js";
import type { CoreServices } from "./services.js";
import type { TeamGcEntry, TeamWarning } from "./team-clusters.js";

// `prodlike gc`: destroys the environments whose lifetime (`up --ttl`) is over, all of
// them, wherever they run; environments without a lifetime, or kept (`prodlike keep`), are
// never touched. On the team clusters (team-clusters.ts) it then deletes anyone's
// namespace whose lifetime is over, read from prodlike's own labels.

export interface GcReport {
  dryRun: boolean;
  /** The expired environments: removed, or with `--dry-run` those that would be. */
  expired: { id: string; backend: string; expiresAt: string; removed?: RemovalReport }[];
  /** Environments still within their lifetime or without one. */
  kept: string[];
  /** Others' expired namespaces on the team clusters: deleted, or would be. */
  namespaces: TeamGcEntry[];
  /** Team contexts that did not answer (the rest were still collected). Not `warnings`:
   *  the JSON document's own key (progress warnings) would hide it. */
  unreachable: TeamWarning[];
}

export async function gc(
  services: CoreServices,
  request: { dryRun: boolean; dir?: string | undefined },
  progress: Progress,
): Promise<GcReport> {
  const environments = await list(services, undefined);
  const store = await services.stores.expiry();
  const expiries = await store.all();
  // A kept environment (`prodlike keep`) outlives its lifetime until it is let go.
  const kept = await (await services.stores.kept()).all();
  const expired = expiredAmong(
    environments.filter((environment) => !kept.has(environment.id)),
    expiries,
    new Date(services.clock.now()),
  );
  const remaining = environments
    .filter((environment) => !expired.some((gone) => gone.id === environment.id))
    .map((environment) => environment.id);
  if (!request.dryRun) await forgetVanished(store, expiries, environments);

  const report: GcReport = {
    dryRun: request.dryRun,
    expired: [],
    kept: remaining,
    namespaces: [],
    unreachable: [],
  };
  for (const environment of expired) {
    const entry = {
      id: environment.id,
      backend: environment.backend,
      expiresAt: environment.expiresAt,
    };
    if (request.dryRun) {
      report.expired.push(entry);
      continue;
    }
    const backend = await services.backend(environment.backend);
    const removed = await whileLocked(services, environment.id, "gc", {}, progress, () =>
      removeEnvironment(
        services,
        backend,
        environment.id,
        { keepImages: false, keepSnapshots: false },
        progress,
        { codeRoot: environment.codeRoot, name: environment.name },
      ),
    );
    report.expired.push({ ...entry, removed });
  }
  // After the local pass: the namespaces it removed are gone, not listed twice.
  const { teamGc } = await import("./team-clusters.js");
  const team = await teamGc(services, { dryRun: request.dryRun, dir: request.dir });
  report.namespaces = team.namespaces;
  report.unreachable = team.warnings;
  return report;
}

// A lifetime whose environment is gone (destroyed by hand with another state folder, a
// cluster deleted outside prodlike) would otherwise stay forever.
async function forgetVanished(
  store: ExpiryStore,
  expiries: ReadonlyMap<string, Expiry>,
  environments: readonly { id: string }[],
): Promise<void> {
  const present = new Set(environments.map((environment) => environment.id));
  for (const envId of expiries.keys()) if (!present.has(envId)) await store.remove(envId);
}
