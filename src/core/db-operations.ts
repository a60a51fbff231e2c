import { createReadStream } from "node:fs";
import { access, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { type Backend, type EnvironmentStatus, environmentNotFound } from "../backends/backend.js";
import type { ProdlikeConfig } from "../config/schema.js";
import type { ExportReport } from "../db/export-dump.js";
import type { ImportReport } from "../db/import-dump.js";
import { LocalDatabase } from "../db/local-database.js";
import { DEFAULT_READY_SNAPSHOTS } from "../db/prepared-copies.js";
import type { PullReport } from "../db/pull.js";
import type { PullRequest } from "../db/pull-plan.js";
import type { RestorePath, SnapshotMeta, SnapshotStore } from "../db/snapshots.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { Progress } from "../ui/steps.js";
import { backendFor, type EnvRequest, projectHooks, whileLocked } from "./environments.js";
import type { HookEvent, HookRun } from "./hooks.js";
import { requireOwnership } from "./ownership.js";
import type { CoreServices } from "./services.js";

// The `db` commands: the environment's database service found by its role, then the
// work done through the backend's exec, so every backend supports them unchanged.

async function localDatabase(
  services: CoreServices,
  request: EnvRequest,
): Promise<{
  db: LocalDatabase;
  envId: string;
  backend: Backend;
  cliService?: string;
  /** Resets what the application keeps in memory, once its data changed. */
  refresh: (progress: Progress) => Promise<string[]>;
  /** The project's own steps after the data changed (prodlike.yaml `hooks:`). */
  hooks: (event: HookEvent, progress: Progress) => Promise<HookRun[]>;
  /** prodlike.yaml `snapshots.ready`: how many snapshots are kept prepared. */
  readySnapshots: number;
}> {
  const { identity, backend, target } = await backendFor(services, request);
  await requireOwnership(services, target, backend, request);
  const status = await backend.status(identity.id);
  if (!status) throw environmentNotFound(identity.id);
  const cliService = status.services.find((candidate) => candidate.role === "cli")?.name;
  return {
    db: databaseOf(backend, status),
    envId: identity.id,
    backend,
    readySnapshots: readySnapshotsOf(target.loaded.config),
    ...(cliService ? { cliService } : {}),
    refresh: async (progress) => {
      const { refreshApplication } = await import("./app-refresh.js");
      return refreshApplication(services, backend, status, target, progress);
    },
    hooks: (event, progress) =>
      projectHooks(
        services,
        event,
        request,
        {
          config: target.loaded.config,
          backend,
          envId: identity.id,
          codeRoot: target.loaded.codeRoot,
          url: status.urls.web,
        },
        progress,
      ),
  };
}

/** prodlike.yaml `snapshots.ready`: how many of the newest snapshots are kept prepared. */
export function readySnapshotsOf(config: ProdlikeConfig): number {
  return config.snapshots?.ready ?? DEFAULT_READY_SNAPSHOTS;
}

/** The database of an environment that runs now; undefined when it is stopped (what only
 *  the running server can tell, such as its prepared copies, is then left out). */
async function runningDatabase(
  backend: Backend,
  envId: string,
): Promise<LocalDatabase | undefined> {
  const status = await backend.status(envId);
  return status?.state === "running" ? databaseOf(backend, status) : undefined;
}

/** An environment's database service, found by its role. */
export function databaseOf(backend: Backend, status: EnvironmentStatus): LocalDatabase {
  const service = status.services.find((candidate) => candidate.role === "db");
  if (!service) {
    throw new ProdlikeError(
      "SERVICE_NOT_FOUND",
      `Environment ${status.id} has no database service`,
      {
        hint: `Its services: ${status.services.map((candidate) => candidate.name).join(", ")}.`,
      },
    );
  }
  return new LocalDatabase(backend, status.id, service.name);
}

// Ctrl-C stops a load and drops its staging copy; the live data is untouched.
async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once("SIGINT", onSigint);
  try {
    return await work(interrupt.signal);
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}

export async function dbPull(
  services: CoreServices,
  request: EnvRequest & PullRequest,
  progress: Progress,
): Promise<PullReport & { id: string; refreshed: string[]; hooks: HookRun[] }> {
  // Planned (and refused, when the target is not this environment) before anything runs.
  const [{ resolveTarget }, { loadPreset }, { readDrushAliases }, { planPull }] = await Promise.all(
    [
      import("./plan.js"),
      import("../topology/preset-loader.js"),
      import("../db/drush-aliases.js"),
      import("../db/pull-plan.js"),
    ],
  );
  const target = await resolveTarget(services, request);
  const codeRoot = target.loaded.codeRoot;
  const [preset, aliases, hasDrush] = await Promise.all([
    loadPreset(target.loaded.config.preset),
    readDrushAliases(codeRoot),
    access(path.join(codeRoot, "vendor", "bin", "drush")).then(
      () => true,
      () => false,
    ),
  ]);
  const plan = planPull(request, {
    config: target.loaded.config.pull,
    preset: preset.definition.pull,
    aliases,
    hasDrush,
  });
  const { db, envId, backend, cliService, refresh, hooks } = await localDatabase(services, request);
  const { runPull } = await import("../db/pull.js");
  const snapshots = await openStore(services, envId);
  const report = await whileLocked(services, envId, "db pull", request, progress, () =>
    withInterrupt((signal) =>
      runPull(
        plan,
        {
          db,
          runner: services.runner,
          backend,
          envId,
          cliService,
          snapshots,
          restartDb: (options) => backend.restartService(envId, db.service, 300_000, options),
        },
        progress,
        signal,
      ),
    ),
  );
  const refreshed = await refresh(progress);
  await (await services.stores.dataOrigin(envId)).write({
    source: plan.subset ? `${plan.source}, a subset (${plan.subset.rows} rows)` : plan.source,
    kind: "pull",
    at: new Date().toISOString(),
    sanitized: report.sanitized,
  });
  const hookRuns = await hooks("post-db-pull", progress);
  return { id: envId, ...report, refreshed, hooks: hookRuns };
}

export async function dbImport(
  services: CoreServices,
  request: EnvRequest & { file: string; stdin: Readable; allowEmpty: boolean },
  progress: Progress,
): Promise<ImportReport & { id: string; refreshed: string[]; hooks: HookRun[] }> {
  const fromStdin = request.file === "-";
  let totalBytes: number | undefined;
  if (!fromStdin) {
    const info = await stat(request.file).catch(() => undefined);
    if (!info?.isFile()) {
      throw new ProdlikeError("USAGE", `No dump file ${request.file}`, {
        hint: "Give a .sql or .sql.gz file, or - to read stdin.",
      });
    }
    totalBytes = info.size;
  }
  const { db, envId, refresh, hooks } = await localDatabase(services, request);
  const { importDump } = await import("../db/import-dump.js");
  const label = fromStdin ? "stdin" : path.basename(request.file);
  const report = await whileLocked(services, envId, "db import", request, progress, () =>
    withInterrupt((signal) =>
      importDump(
        db,
        {
          open: () => (fromStdin ? request.stdin : createReadStream(request.file)),
          reopenable: !fromStdin,
          totalBytes,
          label,
        },
        progress,
        signal,
        { allowEmpty: request.allowEmpty },
      ),
    ),
  );
  await (await services.stores.dataOrigin(envId)).write({
    source: label,
    kind: "import",
    at: new Date().toISOString(),
  });
  const refreshed = await refresh(progress);
  return { id: envId, ...report, refreshed, hooks: await hooks("post-import", progress) };
}

export async function dbExport(
  services: CoreServices,
  request: EnvRequest & { file: string | undefined; gzip: boolean; stdout: Writable },
  progress: Progress,
): Promise<ExportReport & { id: string }> {
  const { db, envId } = await localDatabase(services, request);
  const { exportDump } = await import("../db/export-dump.js");
  const toStdout = request.file === "-";
  const file = toStdout
    ? undefined
    : path.resolve(request.file ?? `${envId}-${timestamp()}.sql${request.gzip ? ".gz" : ""}`);
  const report = await exportDump(
    db,
    { file, ...(toStdout ? { out: request.stdout } : {}), gzip: request.gzip },
    progress,
  );
  return { id: envId, ...report };
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
}

export async function openStore(services: CoreServices, envId: string): Promise<SnapshotStore> {
  return services.stores.snapshots(envId);
}

export async function snapshotCreate(
  services: CoreServices,
  request: EnvRequest & { snapshot?: string | undefined; pin: boolean },
  progress: Progress,
): Promise<SnapshotMeta> {
  const { db, envId, readySnapshots } = await localDatabase(services, request);
  const { createSnapshot, defaultSnapshotName } = await import("../db/snapshots.js");
  return whileLocked(services, envId, "snapshot create", request, progress, async () =>
    createSnapshot(
      db,
      await openStore(services, envId),
      {
        name: request.snapshot ?? defaultSnapshotName(),
        pinned: request.pin,
        ready: readySnapshots,
      },
      progress,
    ),
  );
}

export async function snapshotList(
  services: CoreServices,
  request: EnvRequest,
): Promise<{
  id: string;
  snapshots: (SnapshotMeta & { ready?: boolean; readyBytes?: number; usedBy?: string[] })[];
}> {
  const { identity, backend } = await backendFor(services, request);
  const [snapshots, users] = await Promise.all([
    (await openStore(services, identity.id)).list(),
    seedUsers(backend, identity.id),
  ]);
  // Which are prepared needs the database's volume: read through the running server,
  // left out (not guessed) when the environment is stopped.
  const copies = await (await runningDatabase(backend, identity.id))
    ?.preparedCopies()
    .list()
    .catch(() => undefined);
  return {
    id: identity.id,
    snapshots: snapshots.map((meta) => {
      const usedBy = users.get(meta.name);
      const used = usedBy ? { usedBy } : {};
      if (!copies) return { ...meta, ...used };
      const copy = copies.find((candidate) => candidate.name === meta.name);
      return {
        ...meta,
        ready: copy !== undefined,
        ...(copy ? { readyBytes: copy.bytes } : {}),
        ...used,
      };
    }),
  };
}

export async function snapshotRestore(
  services: CoreServices,
  request: EnvRequest & { snapshot?: string | undefined; healthTimeoutMs: number },
  progress: Progress,
): Promise<
  SnapshotMeta & {
    durationMs: number;
    /** Until the server answered on the restored data. */
    switchMs: number;
    path: RestorePath;
    /** The prepared copy the restore used up was prepared again for the next one. */
    readyAgain: boolean;
    refreshed: string[];
    hooks: HookRun[];
  }
> {
  const started = Date.now();
  const { db, envId, backend, refresh, hooks, readySnapshots } = await localDatabase(
    services,
    request,
  );
  const { keepReadyCopies, keptReady, prepareCopy, restoreSnapshot } = await import(
    "../db/snapshots.js"
  );
  const store = await openStore(services, envId);
  const meta = await store.require(request.snapshot);
  const used = await whileLocked(services, envId, "snapshot restore", request, progress, () =>
    restoreSnapshot(
      db,
      store,
      meta,
      (options) => backend.restartService(envId, db.service, request.healthTimeoutMs, options),
      progress,
    ),
  );
  const switchMs = Date.now() - started;
  const refreshed = await refresh(progress);
  const hookRuns = await hooks("post-restore", progress);
  const durationMs = Date.now() - started;
  // The copy became the live data: made again (the environment already serves the
  // restored data meanwhile), so "put it back" a second time is just as quick.
  let readyAgain = false;
  // Only a snapshot kept ready anyway (pinned, or among the `snapshots.ready` newest) is
  // prepared again: an older one's copy would be removed right after.
  const wanted = keptReady(await store.list(), readySnapshots).has(meta.name);
  if (wanted) {
    await whileLocked(services, envId, "snapshot prepare", request, progress, () =>
      progress.run([
        {
          title: `Prepare ${meta.name} again for the next restore (the environment already serves the restored data)`,
          run: async (context) => {
            // The restore itself is done: a failure here costs the next restore's speed,
            // never this one's result.
            try {
              readyAgain = await prepareCopy(db, store, meta);
              await keepReadyCopies(db, store, readySnapshots);
            } catch (error) {
              context.setTitle(`${meta.name} left cold for the next restore`);
              progress.warn(
                `Could not prepare ${meta.name} again: ${error instanceof Error ? error.message : String(error)}. The next restore of it unpacks the snapshot instead.`,
              );
            }
          },
        },
      ]),
    );
  }
  return {
    ...meta,
    durationMs,
    switchMs,
    path: used,
    readyAgain,
    refreshed,
    hooks: hookRuns,
  };
}

export async function snapshotPrune(
  services: CoreServices,
  request: EnvRequest & { keep: number },
): Promise<{ id: string; removed: SnapshotMeta[]; kept: SnapshotMeta[] }> {
  const { identity, backend, target } = await backendFor(services, request);
  const { keepReadyCopies, pruneSnapshots } = await import("../db/snapshots.js");
  const store = await openStore(services, identity.id);
  // Under the environment's lock: a seed being made from one of them (`up --seed-from`
  // holds it) is finished first, and then counts as in use.
  return whileLocked(services, identity.id, "snapshot prune", request, undefined, async () => {
    const inUse = await seedUsers(backend, identity.id);
    const removed = await pruneSnapshots(store, request.keep, new Set(inUse.keys()));
    // Their prepared copies go too (the disk they use is on the data volume).
    const db = await runningDatabase(backend, identity.id);
    if (db) await keepReadyCopies(db, store, readySnapshotsOf(target.loaded.config));
    return { id: identity.id, removed, kept: await store.list() };
  });
}

/** The environments layered on each snapshot of `envId` (up --seed-from ENV:SNAPSHOT):
 *  such a snapshot is pinned while they are. */
async function seedUsers(backend: Backend, envId: string): Promise<Map<string, string[]>> {
  const users = new Map<string, string[]>();
  for (const seed of await backend.seeds()) {
    if (seed.source !== envId || seed.users.length === 0) continue;
    users.set(seed.snapshot, [...(users.get(seed.snapshot) ?? []), ...seed.users]);
  }
  return users;
}
