import type { Backend, RestartOptions } from "../backends/backend.js";
import { environmentNotFound } from "../backends/backend.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { environmentIdentity } from "../topology/identity.js";
import type { Progress } from "../ui/steps.js";
import { databaseOf } from "./db-operations.js";
import { list } from "./environments.js";
import type { Target } from "./plan.js";
import type { CoreServices } from "./services.js";

// `up --seed-from ENV[:SNAPSHOT]`: a new environment starts from another one's data,
// its live database (copied while it runs) or one of its snapshots. QA's throwaway
// environments start from a known state in seconds instead of a pull.

export interface SeedReport {
  /** The source environment's id. */
  from: string;
  snapshot?: string;
  /** False when the environment already existed: seeding never replaces data. */
  applied: boolean;
  reason?: string;
}

export function parseSeedFrom(text: string): { environment: string; snapshot?: string } {
  const [environment = "", snapshot, ...extra] = text.split(":");
  if (environment === "" || extra.length > 0 || snapshot === "") {
    throw new ProdlikeError("USAGE", `--seed-from must be ENV or ENV:SNAPSHOT, got \`${text}\``, {
      hint: "ENV: an environment name of this project (as in --name) or an id from `prodlike ls`.",
    });
  }
  return snapshot ? { environment, snapshot } : { environment };
}

export async function seedEnvironment(
  services: CoreServices,
  request: {
    target: Target;
    backend: Backend;
    seedFrom: string;
    isNew: boolean;
    healthTimeoutMs: number;
  },
  progress: Progress,
): Promise<SeedReport> {
  const wanted = parseSeedFrom(request.seedFrom);
  const { target, backend } = request;
  const environments = await list(services, undefined);
  // An id from `prodlike ls`, else a name of this project (`--name`).
  const source =
    environments.find((environment) => environment.id === wanted.environment) ??
    environments.find(
      (environment) =>
        environment.id ===
        environmentIdentity(target.loaded.codeRoot, target.loaded.config.name, wanted.environment)
          .id,
    );
  if (!source) throw environmentNotFound(wanted.environment);
  const envId = target.identity.id;
  if (source.id === envId) {
    throw new ProdlikeError("USAGE", `--seed-from names this environment itself (${envId})`, {
      hint: "Seed from another environment: --seed-from local, --seed-from local:SNAPSHOT.",
    });
  }
  const report: SeedReport = {
    from: source.id,
    ...(wanted.snapshot ? { snapshot: wanted.snapshot } : {}),
    applied: false,
  };
  if (!request.isNew) {
    return { ...report, reason: "the environment already existed; its data was kept" };
  }
  const status = await backend.status(envId);
  if (!status) throw environmentNotFound(envId);
  const db = databaseOf(backend, status);
  const restart = (options?: RestartOptions) =>
    backend.restartService(envId, db.service, request.healthTimeoutMs, options);
  const snapshots = await import("../db/snapshots.js");
  if (wanted.snapshot) {
    const store = await services.stores.snapshots(source.id);
    const meta = await store.require(wanted.snapshot);
    await snapshots.restoreSnapshot(db, store, meta, restart, progress);
  } else {
    const sourceBackend = await services.backend(source.backend);
    await snapshots.copyFromEnvironment(
      { db: databaseOf(sourceBackend, source), envId: source.id },
      db,
      restart,
      progress,
    );
  }
  // Production data stays marked as such in every copy made of it.
  const sourceOrigin = await (await services.stores.dataOrigin(source.id)).read();
  await (await services.stores.dataOrigin(envId)).write({
    source: `${source.id}${wanted.snapshot ? `:${wanted.snapshot}` : ""}`,
    kind: "seed",
    at: new Date(services.clock.now()).toISOString(),
    ...(sourceOrigin?.sanitized !== undefined ? { sanitized: sourceOrigin.sanitized } : {}),
  });
  const { refreshApplication } = await import("./app-refresh.js");
  await refreshApplication(services, backend, status, request.target, progress);
  return { ...report, applied: true };
}
