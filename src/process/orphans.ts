import { readdir, readFile } from "node:fs/promises";

// Programs prodlike starts outlive it when it is killed (kill -9, a closed terminal): a
// `docker-compose up` then goes on alone, and the next `up` would run a second one beside
// it. Each program it starts for an environment carries two variables: what it works on
// (ORPHAN_MARK=<id>) and which prodlike started it (ORPHAN_PARENT=<pid>:<start time>).
// Before it starts its own, the next operation on that environment stops those whose
// prodlike is gone. Only this user's processes can be read, and only those are stopped.

export const ORPHAN_MARK = "PRODLIKE_WORKS_ON";
export const ORPHAN_PARENT = "PRODLIKE_PARENT";

export interface ProcessTable {
  /** Each process this user may read: its pid and environment variables. */
  list(): Promise<{ pid: number; env: Map<string, string> }[]>;
  /** Whether the pid still runs with that start time (lock.ts's rule). */
  isRunning(pid: number, started: string | undefined): boolean;
  signal(pid: number, signal: NodeJS.Signals): void;
  sleep(ms: number): Promise<void>;
}

/** The variables a program started for `mark` carries (this process as its parent). */
export function orphanMarks(mark: string, parent: { pid: number; started?: string | undefined }) {
  return { [ORPHAN_MARK]: mark, [ORPHAN_PARENT]: `${parent.pid}:${parent.started ?? ""}` };
}

/** Stops the programs started for `mark` whose prodlike is gone; resolves their pids. */
export async function stopOrphans(mark: string, table: ProcessTable): Promise<number[]> {
  const orphans = (await table.list())
    .filter((process) => process.env.get(ORPHAN_MARK) === mark)
    .filter((process) => {
      const [pid = "", started = ""] = (process.env.get(ORPHAN_PARENT) ?? "").split(":");
      return !table.isRunning(Number(pid), started || undefined);
    })
    .map((process) => process.pid);
  if (orphans.length === 0) return [];
  for (const pid of orphans) table.signal(pid, "SIGTERM");
  for (let waited = 0; waited < 10_000; waited += 100) {
    if (orphans.every((pid) => !table.isRunning(pid, undefined))) return orphans;
    await table.sleep(100);
  }
  for (const pid of orphans) table.signal(pid, "SIGKILL");
  return orphans;
}

/** Linux's /proc: the environments of this user's processes. */
export function procProcessTable(
  isRunning: (pid: number, started: string | undefined) => boolean,
): ProcessTable {
  return {
    async list() {
      const names = await readdir("/proc").catch(() => [] as string[]);
      const table: { pid: number; env: Map<string, string> }[] = [];
      for (const name of names) {
        if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
        const raw = await readFile(`/proc/${name}/environ`, "latin1").catch(() => "");
        // Most processes are not prodlike's: skip parsing them.
        if (!raw.includes(ORPHAN_MARK)) continue;
        const env = new Map<string, string>();
        for (const pair of raw.split("\0")) {
          const at = pair.indexOf("=");
          if (at > 0) env.set(pair.slice(0, at), pair.slice(at + 1));
        }
        table.push({ pid: Number(name), env });
      }
      return table;
    },
    isRunning,
    signal(pid, signal) {
      try {
        process.kill(pid, signal);
      } catch {
        // Gone already.
      }
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
