import { cp, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathExists } from "../env/generated-files.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { Progress, Step } from "../ui/steps.js";
import type { KeptRelease, UpOptions } from "./backend.js";

// The release an `up` replaces: the rendered files that ran before it (compose: the
// compose file and config folder; kind/minikube: the applied manifests), kept in
// .prodlike/NAME/releases/previous, with what else belongs to it (the snapshot of its
// data, a cluster's config hash) in release.json. A few kilobytes: the images they name
// stay on the engine or node, tagged by content.

const PREVIOUS = path.join("releases", "previous");
const RELEASE_FILE = "release.json";

/** What a kept release records besides its files. */
export interface ReleaseInfo extends KeptRelease {
  /** The rendered configuration's hash (cluster records compare it on `up`). */
  configHash?: string;
}

export class ReleaseFiles {
  /**
   * @param dir the environment's folder
   * @param files what a release is, relative to `dir`; the first one must exist for a
   *   release to be kept (files or folders)
   */
  constructor(
    private readonly dir: string,
    private readonly files: readonly [string, ...string[]],
  ) {}

  /** The kept release's folder. */
  get previous(): string {
    return path.join(this.dir, PREVIOUS);
  }

  /** Keeps what runs now as the previous release, with `info`; undefined when nothing ran
   *  before. */
  async keep(info: ReleaseInfo = {}): Promise<string | undefined> {
    if (!(await pathExists(path.join(this.dir, this.files[0])))) return undefined;
    const target = this.previous;
    // Written beside, then renamed: a killed `up` leaves the last complete copy.
    const partial = `${target}.partial`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true, mode: 0o700 });
    for (const file of this.files) {
      const source = path.join(this.dir, file);
      if (await pathExists(source)) await cp(source, path.join(partial, file), { recursive: true });
    }
    await writeInfo(partial, info);
    await rm(target, { recursive: true, force: true });
    await rename(partial, target);
    return target;
  }

  /** Adds to what the kept release records. */
  async describe(info: ReleaseInfo): Promise<void> {
    await writeInfo(this.previous, { ...(await readInfo(this.previous)), ...info });
  }

  /** The kept release's record, or undefined when none is kept. */
  async kept(): Promise<ReleaseInfo | undefined> {
    if (!(await pathExists(path.join(this.previous, this.files[0])))) return undefined;
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

// The data as the old release leaves it, kept with that release (for `rollback --data`):
// taken after the build, so the old release served meanwhile, and before anything of the
// new one runs (its migrations, its cron).
export function beforeSwitchStep(
  releases: ReleaseFiles,
  keep: NonNullable<UpOptions["beforeSwitch"]>,
  progress: Progress,
): Step {
  return {
    title: "Keep the data as the running release leaves it",
    run: async (context) => {
      const dataSnapshot = await keep(progress);
      if (dataSnapshot) await releases.describe({ dataSnapshot });
      else context.setTitle("No data to keep (no database running)");
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

async function writeInfo(folder: string, info: ReleaseInfo): Promise<void> {
  await writeFile(path.join(folder, RELEASE_FILE), `${JSON.stringify(info, null, 2)}\n`, {
    mode: 0o600,
  });
}

// A release kept before this file existed has none; a damaged one records nothing.
async function readInfo(folder: string): Promise<ReleaseInfo> {
  const parsed = await readFile(path.join(folder, RELEASE_FILE), "utf8")
    .then((text) => JSON.parse(text) as Partial<Record<keyof ReleaseInfo, unknown>> | null)
    .catch(() => undefined);
  return {
    ...(typeof parsed?.dataSnapshot === "string" ? { dataSnapshot: parsed.dataSnapshot } : {}),
    ...(typeof parsed?.configHash === "string" ? { configHash: parsed.configHash } : {}),
  };
}
