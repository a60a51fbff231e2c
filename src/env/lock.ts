import { mkdir, open, readFile, rm } from "node:fs/promises";
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
export async function acquireEnvironmentLock(
  envId: string,
  options: LockOptions,
): Promise<HeldLock> {
  await mkdir(options.dir, { recursive: true });
  const file = path.join(options.dir, `${envId}.lock`);
  const deadline = options.clock.now() + options.timeoutMs;
  let reported = false;
  for (;;) {
    try {
      const handle = await open(file, "wx");
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { release: () => rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await readHolder(file);
    if (holder === undefined || !isAlive(holder)) {
      await rm(file, { force: true });
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
}

async function readHolder(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(file, "utf8"), 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
