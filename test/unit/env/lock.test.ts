import { chmod, mkdir, mkdtemp, readFile, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { acquireEnvironmentLock, parseHolder, processStartTime } from "../../../src/env/lock.js";
import { ProdlikeError } from "../../../src/errors/prodlike-error.js";
import { FakeClock } from "../../support/fake-clock.js";

const tempDir = () => mkdtemp(path.join(os.tmpdir(), "prodlike-lock-"));

describe("acquireEnvironmentLock", () => {
  it("writes the owner's pid and removes the file on release", async () => {
    const dir = await tempDir();
    const lock = await acquireEnvironmentLock("shop-local", {
      dir,
      timeoutMs: 0,
      clock: new FakeClock(),
    });
    // The pid, its start time (Linux: /proc/PID/stat), and what it is doing.
    const [pid, started] = (await readFile(path.join(dir, "shop-local.lock"), "utf8")).split("\n");
    expect(pid).toBe(String(process.pid));
    expect(started).toMatch(/^\d+$/);
    await lock.release();
    const again = await acquireEnvironmentLock("shop-local", {
      dir,
      timeoutMs: 0,
      clock: new FakeClock(),
    });
    await again.release();
  });

  it("fails with ENV_BUSY (exit 5) after the timeout while a live process holds it", async () => {
    const dir = await tempDir();
    const held = await acquireEnvironmentLock("shop-local", {
      dir,
      timeoutMs: 0,
      clock: new FakeClock(),
    });
    const clock = new FakeClock();
    const waited: number[] = [];
    const error = await acquireEnvironmentLock("shop-local", {
      dir,
      timeoutMs: 1000,
      clock,
      onWait: (holder) => waited.push(holder.pid),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProdlikeError);
    expect((error as ProdlikeError).code).toBe("ENV_BUSY");
    expect((error as ProdlikeError).exitCode).toBe(5);
    expect(waited).toEqual([process.pid]);
    expect(clock.now()).toBeGreaterThanOrEqual(1000);
    await held.release();
  });

  it("takes over a lock whose owner is gone", async () => {
    const dir = await tempDir();
    // A pid far above pid_max on Linux: no such process.
    await writeFile(path.join(dir, "shop-local.lock"), "99999999\n");
    const lock = await acquireEnvironmentLock("shop-local", {
      dir,
      timeoutMs: 0,
      clock: new FakeClock(),
    });
    await lock.release();
  });

  it("takes over a lock whose pid now belongs to another process (a reused pid)", async () => {
    const dir = await tempDir();
    // This test's own pid is alive, but it did not start at tick 1 after boot.
    await writeFile(path.join(dir, "shop-local.lock"), `${process.pid}\n1\ndb import\n`);
    const clock = new FakeClock();
    const lock = await acquireEnvironmentLock("shop-local", { dir, timeoutMs: 60_000, clock });
    expect(clock.now()).toBe(0);
    await lock.release();
  });

  it("names what the holder is doing when it gives up", async () => {
    const dir = await tempDir();
    const held = await acquireEnvironmentLock("shop-local", {
      dir,
      timeoutMs: 0,
      clock: new FakeClock(),
      operation: "db import",
    });
    const error = (await acquireEnvironmentLock("shop-local", {
      dir,
      timeoutMs: 0,
      clock: new FakeClock(),
    }).catch((caught: unknown) => caught)) as ProdlikeError;
    expect(error.message).toContain("(db import)");
    expect(error.data).toMatchObject({ pid: process.pid, operation: "db import" });
    await held.release();
  });

  it("reads its start time from /proc so a pid names one process", () => {
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(processStartTime(99_999_999)).toBeUndefined();
    expect(parseHolder("42\n")).toEqual({ pid: 42 });
    expect(parseHolder("")).toBeUndefined();
  });

  it("keeps environments apart", async () => {
    const dir = await tempDir();
    const a = await acquireEnvironmentLock("shop-a", { dir, timeoutMs: 0, clock: new FakeClock() });
    const b = await acquireEnvironmentLock("shop-b", { dir, timeoutMs: 0, clock: new FakeClock() });
    await Promise.all([a.release(), b.release()]);
  });

  it("never shows another process an empty lock file (it would look stale)", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "shop-local.lock");
    let emptySeen = 0;
    for (let round = 0; round < 100; round++) {
      let done = false;
      const watcher = (async () => {
        while (!done) {
          const text = await readFile(file, "utf8").catch(() => undefined);
          if (text === "") emptySeen++;
        }
      })();
      const lock = await acquireEnvironmentLock("shop-local", {
        dir,
        timeoutMs: 0,
        clock: new FakeClock(),
      });
      done = true;
      await watcher;
      await lock.release();
    }
    expect(emptySeen).toBe(0);
  });
});

describe("the lock folder", () => {
  it("refuses a folder others may write, or a link planted in its place", async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), "prodlike-lockdir-"));
    const open = path.join(base, "open");
    await mkdir(open);
    await chmod(open, 0o777);
    const options = { timeoutMs: 0, clock: new FakeClock() };
    await expect(acquireEnvironmentLock("x", { ...options, dir: open })).rejects.toMatchObject({
      code: "IO_FAILED",
      message: expect.stringMatching(/writable by others/),
    });
    const planted = path.join(base, "planted");
    await symlink(open, planted);
    await expect(acquireEnvironmentLock("x", { ...options, dir: planted })).rejects.toMatchObject({
      code: "IO_FAILED",
      message: expect.stringMatching(/symbolic link/),
    });
    const lock = await acquireEnvironmentLock("x", { ...options, dir: path.join(base, "mine") });
    await lock.release();
  });
});
