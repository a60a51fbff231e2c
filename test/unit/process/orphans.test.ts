import { describe, expect, it } from "vitest";
import {
  ORPHAN_MARK,
  ORPHAN_PARENT,
  type ProcessTable,
  stopOrphans,
} from "../../../src/process/orphans.js";

// A process table in memory: which pids run, and what each was started with.
function table(processes: { pid: number; env: Record<string, string> }[], alive: Set<number>) {
  const signals: string[] = [];
  const fake: ProcessTable = {
    list: async () => processes.map((p) => ({ pid: p.pid, env: new Map(Object.entries(p.env)) })),
    isRunning: (pid) => alive.has(pid),
    signal: (pid, signal) => {
      signals.push(`${signal} ${pid}`);
      alive.delete(pid);
    },
    sleep: async () => undefined,
  };
  return { fake, signals };
}

describe("stopOrphans", () => {
  it("stops what a prodlike that is gone started on the environment, nothing else", async () => {
    const { fake, signals } = table(
      [
        // docker-compose up of a killed prodlike (pid 10 is gone).
        { pid: 20, env: { [ORPHAN_MARK]: "shop-local", [ORPHAN_PARENT]: "10:555" } },
        // One a live prodlike runs now.
        { pid: 21, env: { [ORPHAN_MARK]: "shop-local", [ORPHAN_PARENT]: "11:556" } },
        // Another environment's.
        { pid: 22, env: { [ORPHAN_MARK]: "blog-local", [ORPHAN_PARENT]: "10:555" } },
      ],
      new Set([11, 20, 21, 22]),
    );
    expect(await stopOrphans("shop-local", fake)).toEqual([20]);
    expect(signals).toEqual(["SIGTERM 20"]);
  });

  it("finds nothing to do when no prodlike was killed", async () => {
    const { fake, signals } = table([], new Set());
    expect(await stopOrphans("shop-local", fake)).toEqual([]);
    expect(signals).toEqual([]);
  });
});
