import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  PassThrough,
  type Readable,
  Transform,
  type TransformCallback,
  type Writable,
} from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { z } from "zod";
import type { RestartOptions } from "../backends/backend.js";
import { stateDir } from "../config/user-settings.js";
import { fromSystemError, ProdlikeError } from "../errors/prodlike-error.js";
import { readState } from "../state/json-state.js";
import type { Progress, Step } from "../ui/steps.js";
import { byCodePoint } from "../ui/text-order.js";
import type { LocalDatabase } from "./local-database.js";

// Snapshots of an environment's database: physical copies made by mariabackup while the
// server runs, kept outside the container (in the user's state folder) with a checksum,
// and restored by preparing the copy in a folder of its own on the data volume, then
// pointing the server at it and restarting it. Data is versioned apart from code and
// images: a restore never touches either.

const snapshotMetaSchema = z.object({
  name: z.string(),
  envId: z.string(),
  createdAt: z.string(),
  method: z.literal("mariabackup"),
  bytes: z.number(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  pinned: z.boolean(),
  automatic: z.boolean().optional(),
});

export interface SnapshotMeta {
  name: string;
  envId: string;
  createdAt: string;
  method: "mariabackup";
  bytes: number;
  sha256: string;
  pinned: boolean;
  /** Taken by prodlike itself (before a `drush sql:sync` pull, a release, a data rollback). */
  automatic?: boolean;
}

/** The snapshots prodlike takes on its own, by what they were taken before; at most one of
 *  each is kept (see pull.ts and core/releases.ts). */
export const AutomaticPrefix = {
  pull: "before-pull-",
  release: "before-release-",
  rollback: "before-rollback-",
} as const;

function isAutomatic(name: string): boolean {
  return Object.values(AutomaticPrefix).some((prefix) => name.startsWith(prefix));
}

const DATA_FILE = "data.mbstream";
const META_FILE = "snapshot.json";
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class SnapshotStore {
  constructor(
    private readonly root: string,
    readonly envId: string,
  ) {}

  private dir(name: string): string {
    return path.join(this.root, this.envId, name);
  }

  dataFile(name: string): string {
    return path.join(this.dir(name), DATA_FILE);
  }

  async list(): Promise<SnapshotMeta[]> {
    const names = await readdir(path.join(this.root, this.envId)).catch(() => [] as string[]);
    const metas = await Promise.all(names.map((name) => this.get(name)));
    return metas
      .filter((meta): meta is SnapshotMeta => meta !== undefined)
      .sort((a, b) => byCodePoint(a.createdAt, b.createdAt));
  }

  // A snapshot whose record is damaged is not listed (nothing can check its data against
  // a checksum it no longer has); asked for by name, it is SNAPSHOT_CORRUPT.
  async get(name: string): Promise<SnapshotMeta | undefined> {
    const read = await readState(path.join(this.dir(name), META_FILE), snapshotMetaSchema);
    if (read.kind !== "ok") return undefined;
    const { automatic: _recorded, ...meta } = read.value;
    return isAutomatic(meta.name) ? { ...meta, automatic: true } : meta;
  }

  /** Whether `name` has a record that is there but damaged. */
  async damaged(name: string): Promise<string | undefined> {
    const read = await readState(path.join(this.dir(name), META_FILE), snapshotMetaSchema);
    return read.kind === "invalid" ? read.reason : undefined;
  }

  async require(name: string | undefined): Promise<SnapshotMeta> {
    const all = await this.list();
    const found = name === undefined ? all.at(-1) : all.find((meta) => meta.name === name);
    const damage = !found && name !== undefined ? await this.damaged(name) : undefined;
    if (damage && name !== undefined) {
      throw new ProdlikeError(
        "SNAPSHOT_CORRUPT",
        `Snapshot ${name} of ${this.envId} has a damaged record (${damage})`,
        {
          hint: `Its data cannot be checked without it: remove its folder (${this.dir(name)}), or restore another snapshot.`,
        },
      );
    }
    if (!found) {
      throw new ProdlikeError(
        "SNAPSHOT_NOT_FOUND",
        name ? `No snapshot ${name} of ${this.envId}` : `${this.envId} has no snapshots`,
        {
          hint:
            all.length > 0
              ? `Its snapshots: ${all.map((meta) => meta.name).join(", ")}.`
              : "Make one: prodlike snapshot create",
        },
      );
    }
    return found;
  }

  async remove(name: string): Promise<void> {
    await rm(this.dir(name), { recursive: true, force: true });
  }

  /** Removes every snapshot of the environment; returns their names. */
  async removeAll(): Promise<string[]> {
    const folder = path.join(this.root, this.envId);
    const names = await readdir(folder).catch(() => [] as string[]);
    await rm(folder, { recursive: true, force: true });
    return names;
  }

  /** Writes the data through `fill`, hashing it; the snapshot exists only once complete. */
  async write(
    name: string,
    pinned: boolean,
    fill: (out: NodeJS.WritableStream) => Promise<void>,
  ): Promise<SnapshotMeta> {
    if (!NAME.test(name)) {
      throw new ProdlikeError("USAGE", `Invalid snapshot name \`${name}\``, {
        hint: "Use letters, digits, dot, dash and underscore (at most 64).",
      });
    }
    if (await this.get(name)) {
      throw new ProdlikeError("USAGE", `Snapshot ${name} of ${this.envId} already exists`, {
        hint: "Pick another name, or remove it first.",
      });
    }
    const partial = `${this.dir(name)}.partial-${process.pid}`;
    await mkdir(partial, { recursive: true, mode: 0o700 });
    try {
      const hasher = new HashingStream();
      const file = createWriteStream(path.join(partial, DATA_FILE), { mode: 0o600 });
      // A failed write (ENOSPC) ends the hasher too, which stops the backup feeding it;
      // the write's own error is the one the user needs (DISK_FULL), not the backup's.
      const written = pipeline(hasher, file);
      const writeFailure = written.then(
        () => undefined,
        (error: unknown) => error,
      );
      try {
        await fill(hasher);
      } catch (error) {
        const failure = await Promise.race([writeFailure, settledSoon()]);
        throw failure === undefined ? error : (fromSystemError(failure) ?? failure);
      }
      hasher.end();
      const failure = await writeFailure;
      if (failure !== undefined) throw fromSystemError(failure) ?? failure;
      const meta: SnapshotMeta = {
        name,
        envId: this.envId,
        createdAt: new Date().toISOString(),
        method: "mariabackup",
        bytes: hasher.bytes,
        sha256: hasher.digest(),
        pinned,
      };
      await writeFile(path.join(partial, META_FILE), `${JSON.stringify(meta, null, 2)}\n`, {
        mode: 0o600,
      });
      await rename(partial, this.dir(name));
      return meta;
    } catch (error) {
      await rm(partial, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * The stored data, hashed as it is read; `check` (after the reader is done) throws
   * unless it matched the checksum taken when it was made.
   */
  readVerified(meta: SnapshotMeta): { stream: Readable; check: () => void } {
    const hasher = new HashingStream();
    const file = createReadStream(this.dataFile(meta.name));
    file.on("error", (error) => hasher.destroy(error));
    return {
      stream: file.pipe(hasher),
      check: () => {
        if (hasher.digest() !== meta.sha256 || hasher.bytes !== meta.bytes) {
          throw new ProdlikeError(
            "SNAPSHOT_CORRUPT",
            `Snapshot ${meta.name} does not match its checksum`,
            {
              hint: "Its file was changed or damaged since it was made; restore another snapshot. The database was not touched.",
            },
          );
        }
      },
    };
  }

  /** Re-hashes the whole stored data; throws SNAPSHOT_CORRUPT unless it matches. */
  async verify(meta: SnapshotMeta): Promise<void> {
    const data = this.readVerified(meta);
    data.stream.resume();
    await finished(data.stream);
    data.check();
  }
}

/** The environment's snapshots, under the user's state folder. */
export function openSnapshotStore(env: NodeJS.ProcessEnv, envId: string): SnapshotStore {
  return new SnapshotStore(path.join(stateDir(env), "snapshots"), envId);
}

export function defaultSnapshotName(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
}

export async function createSnapshot(
  db: LocalDatabase,
  store: SnapshotStore,
  request: {
    name: string;
    pinned: boolean;
    ready: number;
    /** No preparing step at all: the caller prepares it later, or keeps it cold. */
    quiet?: boolean;
  },
  progress: Progress,
): Promise<SnapshotMeta & { ready: boolean }> {
  let meta: SnapshotMeta | undefined;
  let ready = false;
  const prepare: Step = {
    title: `Prepare ${request.name} beside the live data, for a restore in no time`,
    run: async (context) => {
      if (!meta) return;
      if (!request.pinned && request.ready === 0) {
        context.setTitle(`${request.name} kept cold (snapshots.ready: 0)`);
        return;
      }
      ready = await prepareCopy(db, store, meta);
      if (!ready)
        context.setTitle(
          `${request.name} kept cold: the live data is not in a folder of its own yet (after the first restore it is)`,
        );
      await keepReadyCopies(db, store, request.ready);
    },
  };
  await progress.run([
    {
      title: `Snapshot ${store.envId} as ${request.name} (mariabackup, server keeps running)`,
      run: async () => {
        meta = await store.write(request.name, request.pinned, (out) =>
          backUp(db, out as unknown as Writable, { what: "mariabackup" }),
        );
      },
    },
    ...(request.quiet ? [] : [prepare]),
  ]);
  if (!meta) throw new ProdlikeError("INTERNAL", "snapshot was not written");
  return { ...meta, ready };
}

/** Prepares a snapshot's copy from its stored stream, checked against its sha256 as it is
 *  read; a copy whose stream did not match is removed. False: no copy can be kept. */
export async function prepareCopy(
  db: LocalDatabase,
  store: SnapshotStore,
  meta: SnapshotMeta,
): Promise<boolean> {
  const copies = db.preparedCopies();
  const prepared = await unpackVerified(
    store,
    meta,
    async (stream) => ((await copies.prepare(meta.name, stream)) ? true : undefined),
    () => copies.remove(meta.name),
  );
  return prepared === true;
}

/**
 * A snapshot's stored stream handed to `unpack`, its sha256 checked as it is read (one
 * read, not two): an unpack that fails on a damaged file says so (SNAPSHOT_CORRUPT, the
 * usual cause); what was unpacked from bytes that did not match is discarded. `unpack`
 * answers undefined when it unpacked nothing (and read the stream no further).
 */
async function unpackVerified<R>(
  store: SnapshotStore,
  meta: SnapshotMeta,
  unpack: (stream: Readable) => Promise<R>,
  discard: (unpacked: NonNullable<R>) => Promise<void>,
): Promise<R> {
  const data = store.readVerified(meta);
  const unpacked = await unpack(data.stream).catch(async (error: unknown) => {
    await store.verify(meta);
    throw error;
  });
  if (unpacked === undefined || unpacked === null) return unpacked;
  try {
    data.check();
  } catch (error) {
    await discard(unpacked).catch(() => undefined);
    throw error;
  }
  return unpacked;
}

/** The copies worth their disk: the newest `ready` unpinned snapshots and every pinned
 *  one; the others' copies (and copies of removed snapshots) are removed. */
/** The snapshots kept prepared: the pinned ones and the `ready` newest others. */
export function keptReady(metas: readonly SnapshotMeta[], ready: number): Set<string> {
  const unpinned = metas.filter((meta) => !meta.pinned);
  return new Set([
    ...metas.filter((meta) => meta.pinned).map((meta) => meta.name),
    ...unpinned.slice(Math.max(0, unpinned.length - ready)).map((meta) => meta.name),
  ]);
}

export async function keepReadyCopies(
  db: LocalDatabase,
  store: SnapshotStore,
  ready: number,
): Promise<void> {
  const wanted = keptReady(await store.list(), ready);
  const copies = db.preparedCopies();
  for (const copy of await copies.list()) {
    if (!wanted.has(copy.name)) await copies.remove(copy.name);
  }
}

/** How a restore went: from the prepared copy (a rename) or unpacked from the stream. */
export type RestorePath = "prepared" | "unpacked";

export async function restoreSnapshot(
  db: LocalDatabase,
  store: SnapshotStore,
  meta: SnapshotMeta,
  restart: (options?: RestartOptions) => Promise<void>,
  progress: Progress,
): Promise<RestorePath> {
  let used: RestorePath = "unpacked";
  await switchToPreparedData(
    db,
    {
      // The prepared copy when there is one and its manifest still matches; else the
      // stream, checked as it is unpacked (one read, not two): the server is pointed at
      // new data only once every byte matched.
      title: `Switch to ${meta.name} (its prepared copy, else unpacked with its sha256 checked)`,
      prepare: async () => {
        const copies = db.preparedCopies();
        const taken = await copies.take(meta.name);
        if (taken === "corrupt") {
          progress.warn(
            `${meta.name}'s prepared copy no longer matches its manifest: removed, and unpacked from the snapshot itself instead.`,
          );
          await copies.remove(meta.name);
        } else if (taken !== "missing") {
          used = "prepared";
          return taken;
        }
        return unpackVerified(
          store,
          meta,
          (stream) => db.preparePhysicalRestore(stream),
          (unpacked) => db.removeDataFolder(unpacked.next),
        );
      },
    },
    restart,
    progress,
  );
  return used;
}

/**
 * Another environment's database server, copied into this one: a hot mariabackup of the
 * source (which keeps running) streamed straight into this server's prepare, no file in
 * between. The login comes from this environment's own settings at its next start.
 */
export async function copyFromEnvironment(
  source: { db: LocalDatabase; envId: string },
  db: LocalDatabase,
  restart: (options?: RestartOptions) => Promise<void>,
  progress: Progress,
): Promise<void> {
  await switchToPreparedData(
    db,
    {
      title: `Copy ${source.envId}'s data (mariabackup while it runs) beside the live data`,
      prepare: async () => {
        const stream = new PassThrough();
        const backup = backUp(source.db, stream, {
          what: `mariabackup in ${source.envId}`,
          after: "This environment's data was not touched.",
        }).then(
          () => stream.end(),
          (error: unknown) => {
            // The prepare reads a cut-off stream and fails: the backup's error explains it.
            stream.destroy(error instanceof Error ? error : new Error(String(error)));
            throw error;
          },
        );
        const [backedUp, prepared] = await Promise.allSettled([
          backup,
          db.preparePhysicalRestore(stream),
        ]);
        if (backedUp.status === "rejected" || prepared.status === "rejected") {
          if (prepared.status === "fulfilled") {
            await db.removeDataFolder(prepared.value.next).catch(() => undefined);
          }
          throw backedUp.status === "rejected"
            ? backedUp.reason
            : (prepared as PromiseRejectedResult).reason;
        }
        return prepared.value;
      },
    },
    restart,
    progress,
  );
}

// The switch both take: a prepared data folder beside the live one becomes the server's
// data at a restart; if it does not come up, the old folder is put back.
async function switchToPreparedData(
  db: LocalDatabase,
  step: { title: string; prepare: () => Promise<{ previous: string | undefined; next: string }> },
  restart: (options?: RestartOptions) => Promise<void>,
  progress: Progress,
): Promise<void> {
  let previous: string | undefined;
  let next = "";
  await progress.run([
    {
      title: step.title,
      run: async () => {
        const prepared = await step.prepare();
        previous = prepared.previous;
        next = prepared.next;
        await db.pointDataDirectory(next);
      },
    },
    {
      title: "Restart the database on the new data",
      run: async () => {
        // The data the server runs on now is about to be replaced: it is stopped at once,
        // not shut down (a clean shutdown writes dirty pages out and waits for purge: a
        // second or more after a bulk write, all of it thrown away). Should the new data
        // not come up, the old one is crash-recovered from its redo log, as after a power
        // cut; innodb_fast_shutdown = 2 says the same to a backend that cannot kill.
        await db.query("SET GLOBAL innodb_fast_shutdown = 2;").catch(() => undefined);
        try {
          await restart({ immediate: true });
        } catch (error) {
          // The new copy did not come up: point back at the old data and restart.
          await db.pointDataDirectory(previous).catch(() => undefined);
          await restart({ immediate: true }).catch(() => undefined);
          throw error;
        }
      },
    },
    {
      title: "Remove the previous data",
      run: async () => {
        await db.removeDataExcept(next);
      },
    },
  ]);
}

/** Removes the oldest unpinned snapshots beyond `keep`; one `inUse` (environments are
 *  layered on it) is pinned by them. */
export async function pruneSnapshots(
  store: SnapshotStore,
  keep: number,
  inUse: ReadonlySet<string> = new Set(),
): Promise<SnapshotMeta[]> {
  const all = await store.list();
  const unpinned = all.filter((meta) => !meta.pinned && !inUse.has(meta.name));
  const doomed = unpinned.slice(0, Math.max(0, unpinned.length - keep));
  for (const meta of doomed) await store.remove(meta.name);
  return doomed;
}

/** Resolves undefined after a moment: a write error that caused a failure has come by then. */
function settledSoon(): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), 100));
}

class HashingStream extends Transform {
  private readonly hash = createHash("sha256");
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  digest(): string {
    return this.hash.digest("hex");
  }
}

/** A hot mariabackup of `db` into `out`; a failure is COMMAND_FAILED with the tool's last lines. */
async function backUp(
  db: LocalDatabase,
  out: Writable,
  label: { what: string; after?: string },
): Promise<void> {
  const result = await db.physicalBackup(out);
  if (result.exitCode !== 0) {
    const tail = result.stderr.split("\n").slice(-8).join("\n");
    throw new ProdlikeError("COMMAND_FAILED", `${label.what} failed (exit ${result.exitCode})`, {
      hint: label.after ? `${tail}\n${label.after}` : tail,
    });
  }
}
