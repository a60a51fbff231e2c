import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { pathExists } from "../env/generated-files.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { readStateOrNothing } from "../state/json-state.js";
import type { Progress, Step } from "../ui/steps.js";
import type { KeptData, KeptRelease, UpOptions } from "./backend.js";

// The release an `up` replaces: the rendered files that ran before it (compose: the
// compose file and config folder; kind/minikube: the applied manifests), kept in
// .prodlike/NAME/releases/previous, with what else belongs to it (the snapshot of its
// data, a cluster's config hash, when it was kept) in release.json. The one before it
// goes to releases/history/ID, up to a number of them. A few kilobytes each: the images
// they name stay on the engine or node, tagged by content (destroy removes them).
//
// Replacing is a transaction: `begin` sets the running release aside in
// releases/incoming while the new one is tried; `commit` (it came up) makes that the
// previous release, `putBack` (it did not, or the `up` trying it was killed) puts it back
// in place and leaves every kept release as it was, so `rollback` after a failed attempt
// goes to the release that ran before the attempt, not to a copy of the one running.

const PREVIOUS = path.join("releases", "previous");
const INCOMING = path.join("releases", "incoming");
const HISTORY = path.join("releases", "history");
const RELEASE_FILE = "release.json";

/** What a kept release records besides its files. */
export interface ReleaseInfo extends KeptRelease {
  /** The rendered configuration's hash (cluster records compare it on `up`). */
  configHash?: string;
}

/** Releases kept by default: the previous one and the one before it. */
export const DEFAULT_KEPT_RELEASES = 2;

export class ReleaseFiles {
  /**
   * @param dir the environment's folder
   * @param files what a release is, relative to `dir`; the first one must exist for a
   *   release to be kept (files or folders)
   * @param kept how many releases `keep` leaves kept (the previous one and older ones)
   */
  constructor(
    private readonly dir: string,
    private readonly files: readonly [string, ...string[]],
    private readonly keepCount = DEFAULT_KEPT_RELEASES,
  ) {}

  /** The kept release's folder. */
  get previous(): string {
    return path.join(this.dir, PREVIOUS);
  }

  /** Where the running release waits while a new one is tried. */
  get incoming(): string {
    return path.join(this.dir, INCOMING);
  }

  /** Sets what runs now aside while a new release is tried (undefined: nothing ran
   *  before). An incoming release an `up` that was killed left behind is what ran last:
   *  it stays, as the current files are then that attempt's. */
  async begin(info: ReleaseInfo = {}): Promise<string | undefined> {
    if (await pathExists(path.join(this.incoming, this.files[0]))) return this.incoming;
    if (!(await pathExists(path.join(this.dir, this.files[0])))) return undefined;
    await this.copyCurrent(this.incoming, info);
    return this.incoming;
  }

  /** The new release came up: the one it replaced becomes the previous release (the
   *  previous one goes to the history, unless the two are the same). */
  async commit(): Promise<void> {
    if (!(await pathExists(path.join(this.incoming, this.files[0])))) return;
    await this.promoteToPrevious(this.incoming);
  }

  /** The new release did not come up (or the `up` trying it was killed): the release it
   *  was to replace is put back in place of its files, and no kept release changes.
   *  Resolves what that release recorded; undefined when none was set aside. Starting it
   *  again is the caller's. */
  async putBack(): Promise<ReleaseInfo | undefined> {
    if (!(await pathExists(path.join(this.incoming, this.files[0])))) {
      await this.discard(this.incoming);
      return undefined;
    }
    const info = await readInfo(this.incoming);
    await this.restore(this.incoming);
    await this.discard(this.incoming);
    return info;
  }

  /** The new release was never switched to (its build failed): what was set aside is
   *  what still runs, so it is dropped and nothing else changes. */
  async abandon(): Promise<void> {
    await this.discard(this.incoming);
  }

  /** Keeps what runs now as the previous release, with `info`; the one kept before goes
   *  to the history (the oldest beyond the number kept are removed). Undefined when
   *  nothing ran before. */
  async keep(info: ReleaseInfo = {}): Promise<string | undefined> {
    if (!(await pathExists(path.join(this.dir, this.files[0])))) return undefined;
    const partial = path.join(this.dir, "releases", "keeping");
    await this.copyCurrent(partial, info);
    await this.promoteToPrevious(partial);
    return this.previous;
  }

  // The current files copied to `target` with their record; written beside, then
  // renamed: a killed `up` leaves the last complete copy.
  private async copyCurrent(target: string, info: ReleaseInfo): Promise<void> {
    const partial = `${target}.partial`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true, mode: 0o700 });
    for (const file of this.files) {
      const source = path.join(this.dir, file);
      if (await pathExists(source)) await cp(source, path.join(partial, file), { recursive: true });
    }
    await writeInfo(partial, { ...info, keptAt: new Date().toISOString() });
    await rm(target, { recursive: true, force: true });
    await rename(partial, target);
  }

  // `folder` becomes the previous release. An older release goes to the history, unless
  // it is the same as this one (as after a rollback `up` made itself): no release is
  // kept twice.
  private async promoteToPrevious(folder: string): Promise<void> {
    const target = this.previous;
    if (
      this.keepCount > 1 &&
      (await pathExists(path.join(target, this.files[0]))) &&
      !(await this.same(target, folder))
    ) {
      await this.toHistory(target);
      await this.pruneHistory(this.keepCount - 1);
    }
    await rm(target, { recursive: true, force: true });
    await rename(folder, target);
  }

  /** Whether two release folders hold the same files. */
  private async same(a: string, b: string): Promise<boolean> {
    for (const file of this.files) {
      if (!(await sameTree(path.join(a, file), path.join(b, file)))) return false;
    }
    return true;
  }

  /** Every kept release, the previous one first, then older ones, newest first. */
  async list(): Promise<(ReleaseInfo & { id: string })[]> {
    const previous = await this.kept();
    const history = await this.history();
    return [...(previous ? [{ ...previous, id: releaseId(previous) }] : []), ...history];
  }

  /** Makes the kept release `id` (from `list`) the one `swap` goes to: the previous one
   *  goes to the history in its place. */
  async promote(id: string): Promise<void> {
    const previous = await this.kept();
    if (previous && releaseId(previous) === id) return;
    const found = (await this.history()).find((release) => release.id === id);
    if (!found) {
      const ids = (await this.list()).map((release) => release.id);
      throw new ProdlikeError("RELEASE_NOT_FOUND", `No kept release ${id}`, {
        hint: ids.length > 0 ? `The kept releases: ${ids.join(", ")}.` : "No release is kept.",
      });
    }
    if (previous) await this.toHistory(this.previous);
    await rename(path.join(this.dir, HISTORY, id), this.previous);
  }

  private async history(): Promise<(ReleaseInfo & { id: string })[]> {
    const folder = path.join(this.dir, HISTORY);
    const names = await readdir(folder).catch(() => [] as string[]);
    const releases = await Promise.all(
      names
        .filter((name) => RELEASE_ID.test(name))
        .map(async (name) => ({ ...(await readInfo(path.join(folder, name))), id: name })),
    );
    return releases.sort((a, b) => b.id.localeCompare(a.id));
  }

  // An older release keeps no data (only the previous one's snapshot is kept: a copy of
  // the database per release would fill the disk), so its record says none.
  private async toHistory(folder: string): Promise<void> {
    const { dataSnapshot: _dropped, ...info } = await readInfo(folder);
    await writeInfo(folder, info);
    await mkdir(path.join(this.dir, HISTORY), { recursive: true, mode: 0o700 });
    const target = path.join(this.dir, HISTORY, releaseId(info));
    await rm(target, { recursive: true, force: true });
    await rename(folder, target);
  }

  private async pruneHistory(keep: number): Promise<void> {
    for (const old of (await this.history()).slice(keep)) {
      await this.discard(path.join(this.dir, HISTORY, old.id));
    }
  }

  /** Adds to what the release set aside records (while a new one is tried), else to
   *  what the kept release records. */
  async describe(info: ReleaseInfo): Promise<void> {
    const folder = (await pathExists(path.join(this.incoming, this.files[0])))
      ? this.incoming
      : this.previous;
    await writeInfo(folder, { ...(await readInfo(folder)), ...info });
  }

  /** The kept release's record, or undefined when none is kept. */
  async kept(): Promise<ReleaseInfo | undefined> {
    if (!(await pathExists(path.join(this.previous, this.files[0])))) {
      // A promote cut off between its two renames: the newest older one is next.
      const [newest] = await this.history();
      if (!newest || (await pathExists(path.join(this.dir, "releases", "rolling-back"))))
        return undefined;
      await rm(this.previous, { recursive: true, force: true });
      await rename(path.join(this.dir, HISTORY, newest.id), this.previous);
    }
    return readInfo(this.previous);
  }

  /** Puts a kept release's files back in place of the current ones. */
  async restore(release: string): Promise<void> {
    for (const file of this.files) {
      const target = path.join(this.dir, file);
      await rm(target, { recursive: true, force: true });
      const source = path.join(release, file);
      if (await pathExists(source)) await cp(source, target, { recursive: true });
    }
  }

  /** Makes the kept release the current one and the current one the kept one (recording
   *  `left` with it), so a second rollback goes forward again. Resolves what the release
   *  now current recorded, or undefined when none was kept. A swap cut off (kill -9) is
   *  finished by the next one, which is then all that call does. */
  async swap(left: ReleaseInfo = {}): Promise<{ info: ReleaseInfo } | undefined> {
    const moving = path.join(this.dir, "releases", "rolling-back");
    if (await pathExists(path.join(moving, this.files[0]))) {
      if (await pathExists(path.join(this.previous, this.files[0]))) {
        // Cut off after the current release was kept: put the one it went to in place.
        const info = await readInfo(moving);
        await this.restore(moving);
        await this.discard(moving);
        return { info };
      }
      // Cut off before: the kept release is where it was.
      await rm(this.previous, { recursive: true, force: true });
      await rename(moving, this.previous);
    }
    const info = await this.kept();
    if (!info) return undefined;
    await this.discard(moving);
    await rename(this.previous, moving);
    await this.keep(left);
    await this.restore(moving);
    await this.discard(moving);
    return { info };
  }

  // Renamed away first: a removal cut off halfway never looks like a release.
  private async discard(folder: string): Promise<void> {
    const gone = `${folder}.discarded`;
    await rm(gone, { recursive: true, force: true });
    if (await pathExists(folder)) await rename(folder, gone);
    await rm(gone, { recursive: true, force: true });
  }
}

/**
 * Keeping the data as the old release leaves it (for `rollback --data`): `before` takes it
 * after the build (the old release served meanwhile) and before anything of the new one
 * runs (its migrations); its preparation starts at once and runs while the new release
 * starts; `after` waits for it at the end, and `settle` on a failed `up`. A preparation
 * that fails leaves the snapshot cold: a warning, never a failed release.
 */
export function keptDataSteps(
  releases: ReleaseFiles,
  keep: NonNullable<UpOptions["beforeSwitch"]>,
  progress: Progress,
  options: {
    /** The database's own container is being replaced: the preparation, which runs in
     *  it, waits for the new one (in the old one it would be killed halfway). */
    prepareAfterStart?: boolean;
  } = {},
): { before: Step; after: Step; settle: () => Promise<void> } {
  let kept: KeptData | undefined;
  let preparing: Promise<boolean> | undefined;
  const startPreparing = (): void => {
    if (!kept?.prepare) return;
    const { snapshot, prepare } = kept;
    preparing = prepare().then(
      () => true,
      (error: unknown) => {
        progress.warn(
          `${snapshot} was kept but not prepared (${error instanceof Error ? error.message : String(error)}): \`rollback --data\` unpacks it instead.`,
        );
        return false;
      },
    );
  };
  return {
    before: {
      title: "Keep the data as the running release leaves it",
      run: async (context) => {
        kept = await keep(progress);
        if (!kept) {
          context.setTitle("No data to keep (no database running)");
          return;
        }
        await releases.describe({ dataSnapshot: kept.snapshot });
        if (!options.prepareAfterStart) startPreparing();
        context.setTitle(`Kept the data as ${kept.snapshot}`);
      },
    },
    after: {
      title: "Prepare the kept data for a quick `rollback --data`",
      run: async (context) => {
        if (options.prepareAfterStart) startPreparing();
        if (!kept || !preparing) {
          context.setTitle("No kept data to prepare");
          return;
        }
        const ready = await preparing;
        context.setTitle(
          ready
            ? `${kept.snapshot} is ready for \`rollback --data\``
            : `${kept.snapshot} left cold`,
        );
      },
    },
    settle: async () => {
      await preparing;
    },
  };
}

/**
 * After a new release failed (`failure`), starts the kept one again with `back`. Throws
 * ROLLED_BACK (exit 6) with what failed when that worked; when it did not either, the
 * first failure (the one to fix) with the second said in its hint.
 */
export async function rollBackAfter(
  envId: string,
  failure: unknown,
  back: () => Promise<void>,
  what = "did not come up",
): Promise<never> {
  try {
    await back();
  } catch (rollbackError) {
    if (failure instanceof ProdlikeError) {
      throw new ProdlikeError(failure.code, failure.message, {
        cause: failure,
        hint: `${failure.hint ?? ""}\nRolling back to the previous release failed too: ${rollbackError instanceof Error ? rollbackError.message : String(rollbackError)}`.trim(),
      });
    }
    throw failure;
  }
  const reason = failure instanceof Error ? failure.message : String(failure);
  throw new ProdlikeError(
    "ROLLED_BACK",
    `The new release of ${envId} ${what}; the previous one runs again`,
    {
      cause: failure,
      hint: `What failed: ${reason}${failure instanceof ProdlikeError && failure.hint ? `\n${failure.hint}` : ""}\nThe data written meanwhile was kept. Fix prodlike.yaml (or the image) and run prodlike up again.`,
    },
  );
}

// Two trees (files or folders, absent counts as empty) with the same bytes everywhere.
async function sameTree(a: string, b: string): Promise<boolean> {
  const [left, right] = await Promise.all([entryOf(a), entryOf(b)]);
  if (left.kind !== right.kind) return false;
  if (left.kind === "file" && right.kind === "file") return left.bytes.equals(right.bytes);
  if (left.kind !== "folder" || right.kind !== "folder") return true;
  if (left.names.join("\0") !== right.names.join("\0")) return false;
  for (const name of left.names) {
    if (!(await sameTree(path.join(a, name), path.join(b, name)))) return false;
  }
  return true;
}

async function entryOf(
  where: string,
): Promise<
  { kind: "none" } | { kind: "file"; bytes: Buffer } | { kind: "folder"; names: string[] }
> {
  const names = await readdir(where).catch(() => undefined);
  if (names) return { kind: "folder", names: names.sort() };
  const bytes = await readFile(where).catch(() => undefined);
  return bytes ? { kind: "file", bytes } : { kind: "none" };
}

async function writeInfo(folder: string, info: ReleaseInfo): Promise<void> {
  await writeFile(path.join(folder, RELEASE_FILE), `${JSON.stringify(info, null, 2)}\n`, {
    mode: 0o600,
  });
}

const releaseInfoSchema = z.object({
  dataSnapshot: z.string().optional().catch(undefined),
  configHash: z.string().optional().catch(undefined),
  keptAt: z
    .string()
    .refine((value) => !Number.isNaN(Date.parse(value)))
    .optional()
    .catch(undefined),
});

// A release kept before this file existed has none; a damaged one records nothing (the
// release's files are what counts; its record only adds to them), a damaged field
// nothing of its own.
async function readInfo(folder: string): Promise<ReleaseInfo> {
  const parsed = await readStateOrNothing(path.join(folder, RELEASE_FILE), releaseInfoSchema);
  return {
    ...(parsed?.dataSnapshot !== undefined ? { dataSnapshot: parsed.dataSnapshot } : {}),
    ...(parsed?.configHash !== undefined ? { configHash: parsed.configHash } : {}),
    ...(parsed?.keptAt !== undefined ? { keptAt: parsed.keptAt } : {}),
  };
}

// A release's name: when it was kept, to the millisecond (`20261202-183512-123`); one
// kept before that was recorded is the epoch's.
const RELEASE_ID = /^\d{8}-\d{6}-\d{3}$/;

function releaseId(info: ReleaseInfo): string {
  const at = new Date(info.keptAt ?? 0).toISOString();
  return `${at.slice(0, 10).replaceAll("-", "")}-${at.slice(11, 19).replaceAll(":", "")}-${at.slice(20, 23)}`;
}
