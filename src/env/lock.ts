import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { Clock } from "../waits/clock.js";

export interface LockOptions {
  dir: string;
  /** How long to wait for another prodlike to finish; 0 fails at once. */
  timeoutMs: number;
  clock: Clock;
  onWait?: (holderPid: number) => void;
}

export interface HeldLock {
  release(): Promise<void>;
}

// One prodlike process at a time per environment: a second `up` waits for the first (and
// then finds the environment healthy) instead of creating a second set of containers.
// The lock file holds the owner's pid; a lock whose owner is gone is taken over.
//
// The file appears with its content in one step (written under a private name, then
// hard-linked into place: link fails if the lock exists), so no reader ever sees an
// empty lock and mistakes it for a stale one.
export async function acquireEnvironmentLock(
  envId: string,
  options: LockOptions,
): Promise<HeldLock> {
  await mkdir(options.dir, { recursive: true });
  const file = path.join(options.dir, `${envId}.lock`);
  const mine = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(mine, `${process.pid}\n`);
  const deadline = options.clock.now() + options.timeoutMs;
  let reported = false;
  try {
    for (;;) {
      try {
        await link(mine, file);
        return { release: () => rm(file, { force: true }) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const holder = await readHolder(file);
      if (holder === undefined) continue; // released between our link and read
      if (!isAlive(holder)) {
        await takeOverStale(file, holder);
        continue;
      }
      if (options.clock.now() >= deadline) {
        throw new ProdlikeError(
          "ENV_BUSY",
          `Environment ${envId} is being changed by another prodlike (pid ${holder})`,
          {
            hint: `Wait for it to finish, or raise --lock-timeout. Lock file: ${file}`,
            data: { pid: holder, lockFile: file },
          },
        );
      }
      if (!reported) {
        options.onWait?.(holder);
        reported = true;
      }
      await options.clock.sleep(250);
    }
  } finally {
    await rm(mine, { force: true });
  }
}

// Moves a dead owner's lock aside (atomic), then checks what was moved: if another
// process had just replaced it with its own live lock, that lock is put back.
async function takeOverStale(file: string, deadPid: number): Promise<void> {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    await rename(file, aside);
  } catch {
    return; // someone else moved or released it
  }
  const moved = await readHolder(aside);
  if (moved !== undefined && moved !== deadPid && isAlive(moved)) {
    await link(aside, file).catch(() => undefined);
  }
  await rm(aside, { force: true });
}

async function readHolder(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(file, "utf8"), 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process exists (EPERM: it does, owned by another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
