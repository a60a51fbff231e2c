import type {
  Backend,
  EnvironmentStatus,
  RestartOptions,
  SeedLayering,
} from "../backends/backend.js";
import { environmentNotFound, SEED_MOUNT } from "../backends/backend.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { environmentIdentity } from "../topology/identity.js";
import type { Topology } from "../topology/model.js";
import type { Progress } from "../ui/steps.js";
import { databaseOf } from "./db-operations.js";
import { list, lockEnvironment } from "./environments.js";
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
  /** How the data got there: layered on the snapshot's seed (copy-on-write, nothing
   *  copied), or copied in (and why it was not layered). */
  method?: "layered" | "copied";
  /** The seed the database is layered on. */
  seed?: string;
  /** Why the data was copied rather than layered. */
  copiedBecause?: string;
}

/** A new environment's database volume made to start on a seed before its first start. */
export type SeedLayer = { seed: string } | { copiedBecause: string };

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
    /** What `layerSeed` did before the start, when it ran. */
    layer?: SeedLayer | undefined;
  },
  progress: Progress,
): Promise<SeedReport> {
  const wanted = parseSeedFrom(request.seedFrom);
  const { target, backend } = request;
  const source = await seedSource(services, target, wanted.environment);
  const envId = target.identity.id;
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
  const layer = request.layer;
  if (layer && "seed" in layer) {
    // The database started on the seed: nothing to copy.
  } else if (wanted.snapshot) {
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
  if (layer && "seed" in layer)
    return { ...report, applied: true, method: "layered", seed: layer.seed };
  return {
    ...report,
    applied: true,
    method: "copied",
    ...(layer && "copiedBecause" in layer ? { copiedBecause: layer.copiedBecause } : {}),
  };
}

// An id from `prodlike ls`, else a name of this project (`--name`); never the
// environment being made.
async function seedSource(
  services: CoreServices,
  target: Target,
  wanted: string,
): Promise<EnvironmentStatus> {
  const environments = await list(services, undefined);
  const source =
    environments.find((environment) => environment.id === wanted) ??
    environments.find(
      (environment) =>
        environment.id ===
        environmentIdentity(target.loaded.codeRoot, target.loaded.config.name, wanted).id,
    );
  if (!source) throw environmentNotFound(wanted);
  if (source.id === target.identity.id) {
    throw new ProdlikeError(
      "USAGE",
      `--seed-from names this environment itself (${target.identity.id})`,
      {
        hint: "Seed from another environment: --seed-from local, --seed-from local:SNAPSHOT.",
      },
    );
  }
  return source;
}

/** Where a database keeps its data: the volume a seed's copy lays out. */
const DATA_PATH = "/var/lib/mysql";

/**
 * `up --seed-from ENV:SNAPSHOT` on a backend that layers volumes, before the new
 * environment first starts: its database volume is made on the snapshot's seed (the
 * prepared copy, kept read-only on the engine, made once per snapshot), so it starts on
 * that data at once and keeps only what it writes. Answers why not when it cannot (a
 * live environment rather than a snapshot, a cluster, an engine without overlayfs): the
 * data is copied in after the start then, as before.
 *
 * The source's lock is held while its snapshot becomes a seed (a prune waits), and the
 * machine-wide seed lock while a seed gets a user (a destroy elsewhere that removes
 * unused seeds cannot take it in between).
 */
export async function layerSeed(
  services: CoreServices,
  request: {
    target: Target;
    backend: Backend;
    topology: Topology;
    seedFrom: string;
    lockTimeoutMs: number;
  },
  progress: Progress,
): Promise<SeedLayer> {
  const { target, backend, topology } = request;
  const wanted = parseSeedFrom(request.seedFrom);
  const source = await seedSource(services, target, wanted.environment);
  if (!backend.layeredSeeds) {
    return { copiedBecause: `${backend.name} copies data into its volumes` };
  }
  if (!wanted.snapshot) {
    return {
      copiedBecause: `a running environment's data is copied; --seed-from ${wanted.environment}:SNAPSHOT starts on a snapshot without copying`,
    };
  }
  if (source.backend !== backend.name) {
    return { copiedBecause: `${source.id} runs on ${source.backend}` };
  }
  const volume = databaseVolume(topology);
  if (!volume) return { copiedBecause: "its database keeps no volume of its own" };
  const [snapshots, copies, store] = await Promise.all([
    import("../db/snapshots.js"),
    import("../db/prepared-copies.js"),
    services.stores.snapshots(source.id),
  ]);
  const sourceLock = await lockEnvironment(services, source.id, "seed", request, progress);
  try {
    // Read under the source's lock: a prune that came first has removed it by now (and
    // this refuses with SNAPSHOT_NOT_FOUND); one that comes later waits, then sees it used.
    const meta = await store.require(wanted.snapshot);
    const seed = seedName(source.id, meta.name, meta.sha256);
    return await whileSeedsLocked(services, progress, async () => {
      let made = false;
      let layered: SeedLayering = { layered: false, reason: "not tried" };
      await progress.run([
        {
          title: `Seed ${meta.name} of ${source.id}: its prepared copy, kept read-only on the engine`,
          run: async (context) => {
            if ((await backend.seeds()).some((existing) => existing.name === seed)) {
              context.setTitle(`Seed ${meta.name} of ${source.id} is on the engine already`);
              return;
            }
            const db = databaseOf(await services.backend(source.backend), source);
            if ((await db.preparedCopies().check(meta.name)) !== "ready") {
              context.update(`preparing ${meta.name} in ${source.id} first`);
              if (!(await snapshots.prepareCopy(db, store, meta))) {
                throw new ProdlikeError(
                  "SNAPSHOT_NOT_FOUND",
                  `${source.id} cannot keep ${meta.name} prepared (its data is at its volume's top level)`,
                  {
                    hint: `Restore a snapshot in ${source.id} once (its data then moves into a folder of its own).`,
                  },
                );
              }
            }
            await backend.createSeed({
              seed,
              source: source.id,
              snapshot: meta.name,
              service: db.service,
              command: copies.exportSeedCommand(meta.name, SEED_MOUNT),
            });
            made = true;
          },
        },
        {
          title: `Layer ${volume} on it (copy-on-write: only what ${target.identity.id} writes is its own)`,
          run: async (context) => {
            layered = await backend.layerOnSeed(topology, {
              volume,
              seed,
              check: copies.SEED_CHECK_SCRIPT,
            });
            if (!layered.layered) context.setTitle(`${volume} not layered: ${layered.reason}`);
          },
        },
      ]);
      if (layered.layered) return { seed };
      if (made) await backend.removeUnusedSeeds();
      progress.warn(`Not copy-on-write: ${layered.reason}; the data is copied instead.`);
      return { copiedBecause: layered.reason };
    });
  } finally {
    await sourceLock.release();
  }
}

/** One seed per snapshot content: a snapshot made again under the same name is another. */
export function seedName(envId: string, snapshot: string, sha256: string): string {
  return `${envId}-${snapshot}-${sha256.slice(0, 12)}`;
}

/** The volume the database service keeps its data on, by the model's name. */
function databaseVolume(topology: Topology): string | undefined {
  const db = topology.services.find((service) => service.role === "db");
  const mount = db?.mounts.find(
    (candidate) => candidate.type === "volume" && candidate.target === DATA_PATH,
  );
  return mount?.type === "volume" ? mount.volume : undefined;
}

const SEEDS_LOCK_TIMEOUT_MS = 600_000;
/** A seed's filling copies the whole snapshot once: minutes for a large one. */
const SEEDS_LOCK_TTL_MS = 3_600_000;

// Seeds are shared by every environment (and user) of the engine: giving one a user and
// removing unused ones never interleave.
export async function whileSeedsLocked<T>(
  services: CoreServices,
  progress: Progress | undefined,
  work: () => Promise<T>,
): Promise<T> {
  const [{ acquireMachineLock }, { machineClaims }] = await Promise.all([
    import("../backends/docker/machine-lock.js"),
    import("./machine.js"),
  ]);
  const lock = await acquireMachineLock(await machineClaims(services), "seeds", {
    timeoutMs: SEEDS_LOCK_TIMEOUT_MS,
    ttlMs: SEEDS_LOCK_TTL_MS,
    clock: services.clock,
    what: "The seeds of copy-on-write environments",
    onWait: (holder) =>
      progress?.info(
        `Waiting for another prodlike (pid ${holder.pid}, uid ${holder.uid}) on the seeds…`,
      ),
  });
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
