import {
  type Backend,
  type EnvironmentStatus,
  type KeptData,
  noPreviousRelease,
} from "../backends/backend.js";
import type { LocalDatabase } from "../db/local-database.js";
import {
  AutomaticPrefix,
  defaultSnapshotName,
  type SnapshotMeta,
  type SnapshotStore,
} from "../db/snapshots.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { Progress } from "../ui/steps.js";
import { databaseOf, openStore, readySnapshotsOf } from "./db-operations.js";
import type { Target } from "./plan.js";
import type { CoreServices } from "./services.js";

// Releases and their data. Code and data are versioned apart: a rollback is of the code
// alone unless asked (`--data`), and then the data goes back to what the old release left
// when it was replaced, a snapshot taken at that switch. The data being left is itself
// snapshotted first, so going forward again loses nothing.

/** The `up` hook that keeps the data as the running release leaves it (unless prodlike.yaml
 *  says `snapshots.beforeRelease: false`); undefined when it is off. */
export function releaseDataKeeper(
  services: CoreServices,
  target: Target,
  backend: Backend,
): ((progress: Progress) => Promise<KeptData | undefined>) | undefined {
  const snapshots = target.loaded.config.snapshots;
  if (snapshots?.beforeRelease === false) return undefined;
  const envId = target.identity.id;
  return async (progress) => {
    const status = await backend.status(envId);
    if (status?.state !== "running" || !hasDatabase(status)) return undefined;
    const store = await openStore(services, envId);
    // Only the previous release can be rolled back to with its data: the data kept with
    // earlier ones goes first (the disk is the limit on a large database). The previous
    // release's stays until the new one came up: a failed attempt leaves it the one to
    // go back to.
    await dropAutomatic(store, RELEASE_DATA, await keptReleaseData(backend, envId));
    const db = databaseOf(backend, status);
    const meta = await takeAutomatic(store, db, AutomaticPrefix.release, progress);
    const ready = readySnapshotsOf(target.loaded.config);
    if (ready === 0) return { snapshot: meta.name };
    // Prepared like any new snapshot (`rollback --data` is then a rename, not an unpack),
    // by the backend while the new release starts.
    return {
      snapshot: meta.name,
      prepare: async () => {
        const { keepReadyCopies, prepareCopy } = await import("../db/snapshots.js");
        await prepareCopy(db, store, meta);
        await keepReadyCopies(db, store, ready);
      },
    };
  };
}

/** `rollback --data`: checks there is data to go back to before anything changes; then
 *  keeps the data being left, switches the code, and restores the kept release's data. */
export async function rollbackWithData(
  services: CoreServices,
  target: Target,
  backend: Backend,
  options: { healthTimeoutMs: number },
  progress: Progress,
): Promise<{ status: EnvironmentStatus; restored: string; saved: string }> {
  const envId = target.identity.id;
  const release = await backend.previousRelease(envId);
  if (!release) {
    throw noPreviousRelease(envId);
  }
  if (!release.dataSnapshot) {
    throw new ProdlikeError(
      "SNAPSHOT_NOT_FOUND",
      `The previous release of ${envId} has no snapshot of its data`,
      {
        hint: "One is taken when `up` replaces a running release with a database (snapshots.beforeRelease in prodlike.yaml). `prodlike rollback` without --data goes back on the current data.",
      },
    );
  }
  const store = await openStore(services, envId);
  const meta = await store.require(release.dataSnapshot);
  const before = await backend.status(envId);
  // Only the database must run (the data being left is snapshotted from it): a release
  // whose web tier fails is exactly what one rolls back from.
  if (!before || !databaseRuns(before)) {
    throw new ProdlikeError("SERVICE_NOT_RUNNING", `The database of ${envId} is not running`, {
      hint: "The data being left is snapshotted first, which needs the database running. `prodlike rollback` without --data goes back on the current data; `prodlike status` shows what runs.",
    });
  }
  // The data to go back to is checked before anything changes: its prepared copy against
  // its manifest, else the snapshot's stream against its sha256. The restore checks again;
  // this is what keeps a damaged snapshot from leaving the old code on the new data.
  await progress.run([
    {
      title: `Check ${meta.name} before switching`,
      run: async (context) => {
        const copy = await databaseOf(backend, before).preparedCopies().check(meta.name);
        if (copy === "ready") {
          context.setTitle(`${meta.name} is ready (its prepared copy matches its manifest)`);
          return;
        }
        await store.verify(meta);
        context.setTitle(`${meta.name} matches its checksum (it will be unpacked)`);
      },
    },
  ]);
  // Kept cold: the data being left is rarely wanted back, and its copy would use the disk.
  const saved = (
    await takeAutomatic(store, databaseOf(backend, before), AutomaticPrefix.rollback, progress)
  ).name;
  await backend.rollback(envId, progress, {
    healthTimeoutMs: options.healthTimeoutMs,
    dataSnapshot: saved,
  });
  const status = await backend.status(envId);
  if (!status) throw new ProdlikeError("INTERNAL", `${envId} vanished during the rollback`);
  const db = databaseOf(backend, status);
  const { keepReadyCopies, restoreSnapshot } = await import("../db/snapshots.js");
  await restoreSnapshot(
    db,
    store,
    meta,
    (restart) => backend.restartService(envId, db.service, options.healthTimeoutMs, restart),
    progress,
  );
  // The restored data is live now: only the snapshot kept with the release left is still
  // wanted (and the prepared copies follow the snapshots that remain).
  await dropAutomatic(store, RELEASE_DATA, [saved]);
  await keepReadyCopies(db, store, readySnapshotsOf(target.loaded.config));
  const { refreshApplication } = await import("./app-refresh.js");
  await refreshApplication(services, backend, status, target, progress);
  return { status, restored: meta.name, saved };
}

/** After an `up` (whatever its outcome): the automatic snapshots of release data that no
 *  kept release records any more go (the attempt's own after a failed one, the one of a
 *  release pushed into the history after a new one came up). */
export async function pruneReleaseData(
  services: CoreServices,
  target: Target,
  backend: Backend,
): Promise<void> {
  const envId = target.identity.id;
  const keep = await keptReleaseData(backend, envId).catch(() => undefined);
  if (keep === undefined) return;
  await dropAutomatic(await openStore(services, envId), RELEASE_DATA, keep);
}

async function keptReleaseData(backend: Backend, envId: string): Promise<string[]> {
  const kept = await backend.previousRelease(envId);
  return kept?.dataSnapshot ? [kept.dataSnapshot] : [];
}

function hasDatabase(status: EnvironmentStatus): boolean {
  return status.services.some((service) => service.role === "db");
}

function databaseRuns(status: EnvironmentStatus): boolean {
  return status.services.some(
    (service) =>
      service.role === "db" && service.state === "running" && service.health !== "unhealthy",
  );
}

// A snapshot prodlike takes on its own, kept cold (prepared, if at all, by the caller).
async function takeAutomatic(
  store: SnapshotStore,
  db: LocalDatabase,
  prefix: string,
  progress: Progress,
): Promise<SnapshotMeta> {
  const { createSnapshot } = await import("../db/snapshots.js");
  // Names are to the second: a second one within it gets a counter.
  const base = `${prefix}${defaultSnapshotName()}`;
  let name = base;
  for (let count = 2; await store.get(name); count += 1) name = `${base}-${count}`;
  return createSnapshot(db, store, { name, pinned: false, ready: 0, quiet: true }, progress);
}

const RELEASE_DATA = [AutomaticPrefix.release, AutomaticPrefix.rollback];

/** Removes the unpinned automatic snapshots of these kinds but those in `keep`. */
async function dropAutomatic(
  store: SnapshotStore,
  prefixes: readonly string[],
  keep: readonly string[],
): Promise<void> {
  for (const meta of await store.list()) {
    if (keep.includes(meta.name) || meta.pinned) continue;
    if (prefixes.some((prefix) => meta.name.startsWith(prefix))) await store.remove(meta.name);
  }
}
