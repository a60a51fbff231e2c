import { readFileSync } from "node:fs";
import { link, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { randomHex } from "../process/crypto-on-demand.js";
import type { Clock } from "../waits/clock.js";
import { ensurePrivateDir } from "./private-dir.js";

export interface LockOptions {
  dir: string;
  /** How long to wait for another prodlike to finish; 0 fails at once. */
  timeoutMs: number;
  clock: Clock;
  /** What this process is about to do (`db import`), shown to whoever waits on it. */
  operation?: string;
  onWait?: (holder: LockHolder) => void;
}

export interface HeldLock {
  release(): Promise<void>;
}

/** Who holds a lock: enough to name it to the user and to tell it from a reused pid. */
export interface LockHolder {
  pid: number;
  /** The process's start time as the kernel counts it (Linux); undefined elsewhere. */
  started?: string | undefined;
  operation?: string | undefined;
}

// One prodlike process at a time per environment: a second `up`, `db import` or `destroy`
// waits for the first instead of working on the same containers and databases.
//
// The lock file holds the owner's pid, its start time and what it is doing. A lock whose
// owner is gone is taken over at once; a pid the system has since given to another
// process is told apart by its start time, so a reused pid never blocks anyone.
//
// The file appears with its content in one step (written under a private name, then
// hard-linked into place: link fails if the lock exists), so no reader ever sees an
// empty lock and mistakes it for a stale one.
export async function acquireEnvironmentLock(
  envId: string,
  options: LockOptions,
): Promise<HeldLock> {
  await ensurePrivateDir(options.dir);
  const file = path.join(options.dir, `${envId}.lock`);
  const mine = `${file}.${process.pid}.${await randomHex(4)}`;
  await writeFile(mine, formatHolder(currentProcess(options.operation)), { mode: 0o600 });
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
      if (!isRunning(holder)) {
        await takeOverStale(file, holder);
        continue;
      }
      if (options.clock.now() >= deadline) {
        const doing = holder.operation ? ` (${holder.operation})` : "";
        throw new ProdlikeError(
          "ENV_BUSY",
          `Environment ${envId} is being changed by another prodlike${doing}, pid ${holder.pid}`,
          {
            hint: `Wait for it to finish, or raise --lock-timeout. Lock file: ${file}`,
            data: { pid: holder.pid, operation: holder.operation, lockFile: file },
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
async function takeOverStale(file: string, dead: LockHolder): Promise<void> {
  const aside = `${file}.stale.${process.pid}.${await randomHex(4)}`;
  try {
    await rename(file, aside);
  } catch {
    return; // someone else moved or released it
  }
  const moved = await readHolder(aside);
  if (moved !== undefined && !sameProcess(moved, dead) && isRunning(moved)) {
    await link(aside, file).catch(() => undefined);
  }
  await rm(aside, { force: true });
}

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    return parseHolder(await readFile(file, "utf8"));
  } catch {
    return undefined;
  }
}

/** `pid`, then the start time and the operation on lines of their own (both optional). */
export function parseHolder(text: string): LockHolder | undefined {
  const [pidLine = "", started = "", operation = ""] = text.split("\n");
  const pid = Number.parseInt(pidLine, 10);
  if (!Number.isFinite(pid) || pid <= 0) return undefined;
  return {
    pid,
    ...(started.trim() ? { started: started.trim() } : {}),
    ...(operation.trim() ? { operation: operation.trim() } : {}),
  };
}

function formatHolder(holder: LockHolder): string {
  return `${holder.pid}\n${holder.started ?? ""}\n${holder.operation ?? ""}\n`;
}

/** This process, as a lock or a reservation names it. */
export function currentProcess(operation?: string): LockHolder {
  return {
    pid: process.pid,
    started: processStartTime(process.pid),
    ...(operation ? { operation } : {}),
  };
}

/** The holder is still the process that wrote the record (not a newer one with its pid). */
export function isRunning(holder: LockHolder): boolean {
  if (!isAlive(holder.pid)) return false;
  if (holder.started === undefined) return true;
  const now = processStartTime(holder.pid);
  return now === undefined || now === holder.started;
}

function sameProcess(a: LockHolder, b: LockHolder): boolean {
  return a.pid === b.pid && a.started === b.started;
}

/**
 * When a process started, in clock ticks since boot (/proc/PID/stat, field 22): with the
 * pid it names one process for the machine's uptime. Undefined where /proc is not Linux's.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from its end.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
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
