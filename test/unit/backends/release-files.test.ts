import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { COMPOSE_FILE } from "../../../src/backends/compose/compose-project.js";
import { composeReleases, releaseServices } from "../../../src/backends/compose/compose-release.js";
import {
  keptDataSteps,
  ReleaseFiles,
  type ReleaseInfo,
} from "../../../src/backends/release-files.js";
import { pathExists } from "../../../src/env/generated-files.js";
import { SilentProgress } from "../../../src/ui/plain-progress.js";

// The release files `up` keeps and puts back (compose: the compose file and the config
// folder; clusters: the manifests), and what is recorded with them.

let dir: string;

async function release(compose: string, nginx: string): Promise<void> {
  await mkdir(path.join(dir, "config"), { recursive: true });
  await writeFile(path.join(dir, COMPOSE_FILE), compose);
  await writeFile(path.join(dir, "config", "nginx.conf"), nginx);
}

const nginx = () => readFile(path.join(dir, "config", "nginx.conf"), "utf8");

/** What a release recorded, without when it was kept (a time, checked on its own). */
function recorded(info: ReleaseInfo | undefined): Omit<ReleaseInfo, "keptAt"> | undefined {
  if (!info) return undefined;
  const { keptAt: _keptAt, ...rest } = info;
  return rest;
}

afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("kept releases", () => {
  it("keeps nothing before the first release", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    const releases = composeReleases(dir);
    expect(await releases.keep()).toBeUndefined();
    expect(await releases.kept()).toBeUndefined();
    expect(await releases.swap()).toBeUndefined();
  });

  it("puts the kept release's compose file and config back", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    const releases = composeReleases(dir);
    await release("services:\n  web: {}\n  db: {}\n", "old");
    const kept = await releases.keep();
    expect(kept).toBe(path.join(dir, "releases", "previous"));
    await release("services:\n  web: {}\n", "new");
    await releases.restore(releases.previous);
    expect(await nginx()).toBe("old");
    expect(await releaseServices(releases.previous)).toEqual(["web", "db"]);
  });

  it("swaps the current and the kept release, so rolling back twice goes forward", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    const releases = composeReleases(dir);
    await release("services:\n  web: {}\n", "one");
    await releases.keep();
    await release("services:\n  web: {}\n", "two");
    await releases.swap();
    expect(await nginx()).toBe("one");
    await releases.swap();
    expect(await nginx()).toBe("two");
  });

  it("keeps the data snapshot with the release it belongs to, across swaps", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    const releases = composeReleases(dir);
    await release("services:\n  web: {}\n", "one");
    await releases.keep();
    // A release kept without a snapshot (no database, or snapshots.beforeRelease false).
    expect(recorded(await releases.kept())).toEqual({});
    await releases.describe({ dataSnapshot: "before-release-1" });
    expect(recorded(await releases.kept())).toEqual({ dataSnapshot: "before-release-1" });
    await release("services:\n  web: {}\n", "two");
    // Rolling back: release two is kept now, with the snapshot of the data it left; the
    // swap says what the release it went back to recorded.
    const swapped = await releases.swap({ dataSnapshot: "before-rollback-1" });
    expect(recorded(swapped?.info)).toEqual({ dataSnapshot: "before-release-1" });
    expect(recorded(await releases.kept())).toEqual({ dataSnapshot: "before-rollback-1" });
    // A code-only rollback records none.
    await releases.swap();
    expect(recorded(await releases.kept())).toEqual({});
  });

  it("reads a damaged release record as recording nothing", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    const releases = composeReleases(dir);
    await release("services:\n  web: {}\n", "one");
    await releases.keep({ dataSnapshot: "x", configHash: "abc" });
    expect(recorded(await releases.kept())).toEqual({ dataSnapshot: "x", configHash: "abc" });
    for (const damaged of ['{"dataSnapshot": ', "null", '{"dataSnapshot": 7}', "\u0000\u0001"]) {
      await writeFile(path.join(releases.previous, "release.json"), damaged);
      expect(recorded(await releases.kept())).toEqual({});
    }
  });

  it("keeps a cluster release (its manifests) and its config hash", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    const releases = new ReleaseFiles(dir, ["manifests.yaml"]);
    await writeFile(path.join(dir, "manifests.yaml"), "kind: Deployment # one\n");
    await releases.keep({ configHash: "one" });
    await writeFile(path.join(dir, "manifests.yaml"), "kind: Deployment # two\n");
    const swapped = await releases.swap({ configHash: "two" });
    expect(swapped?.info.configHash).toBe("one");
    expect(await readFile(path.join(dir, "manifests.yaml"), "utf8")).toContain("# one");
    expect((await releases.kept())?.configHash).toBe("two");
  });

  it("finishes a swap cut off (kill -9) at either of its steps, and only that", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    const releases = composeReleases(dir);
    const moving = path.join(dir, "releases", "rolling-back");
    await release("services:\n  web: {}\n", "one");
    await releases.keep({ dataSnapshot: "of-one" });
    await release("services:\n  web: {}\n", "two");

    // Cut off after the kept release was moved aside: it is found there.
    await rename(releases.previous, moving);
    const first = await releases.swap();
    expect(recorded(first?.info)).toEqual({ dataSnapshot: "of-one" });
    expect(await nginx()).toBe("one");
    expect(recorded(await releases.kept())).toEqual({});
    expect(await pathExists(moving)).toBe(false);

    // Cut off after the current release was kept, before the other was put in place:
    // the next swap puts it in place and does nothing more.
    await release("services:\n  web: {}\n", "three");
    await rename(releases.previous, moving);
    await releases.keep({ dataSnapshot: "of-three" });
    const second = await releases.swap();
    expect(recorded(second?.info)).toEqual({});
    expect(await nginx()).toBe("two");
    expect(recorded(await releases.kept())).toEqual({ dataSnapshot: "of-three" });
    expect(await pathExists(moving)).toBe(false);
  });

  it("keeps older releases in a history, the oldest beyond the number kept removed", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    const releases = new ReleaseFiles(dir, [COMPOSE_FILE, "config"], 3);
    for (const name of ["one", "two", "three", "four"]) {
      await release("services:\n  web: {}\n", name);
      await releases.keep();
      // Ids are to the millisecond.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await release("services:\n  web: {}\n", "five");
    const kept = await releases.list();
    expect(kept).toHaveLength(3);
    expect(kept.map((entry) => entry.id)).toEqual(
      [...kept.map((entry) => entry.id)].sort().reverse(),
    );
    for (const entry of kept) expect(entry.id).toMatch(/^\d{8}-\d{6}-\d{3}$/);
    // Four, three and two are kept (one went). Back to the oldest kept (two): the
    // previous one (four) goes to the history.
    const oldest = kept.at(-1)?.id ?? "";
    await releases.promote(oldest);
    await releases.swap();
    expect(await nginx()).toBe("two");
    const after = await releases.list();
    expect(after.map((entry) => entry.id)).not.toContain(oldest);
    // What ran (five) is the previous release now.
    await releases.swap();
    expect(await nginx()).toBe("five");
  });

  it("refuses an unknown release id, naming the kept ones", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    const releases = composeReleases(dir);
    await release("services:\n  web: {}\n", "one");
    await releases.keep();
    const [only] = await releases.list();
    await expect(releases.promote("20990101-000000-000")).rejects.toMatchObject({
      code: "RELEASE_NOT_FOUND",
      hint: expect.stringContaining(only?.id ?? "?"),
    });
    await expect(releases.promote("../../etc")).rejects.toMatchObject({
      code: "RELEASE_NOT_FOUND",
    });
  });

  it("finds the previous release again after a promote cut off between its renames", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    const releases = composeReleases(dir);
    await release("services:\n  web: {}\n", "one");
    await releases.keep();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await release("services:\n  web: {}\n", "two");
    await releases.keep();
    await release("services:\n  web: {}\n", "three");
    // The previous release (two) went to the history; the other rename never happened.
    const [previous] = await releases.list();
    await rename(releases.previous, path.join(dir, "releases", "history", previous?.id ?? ""));
    expect((await releases.list()).map((entry) => entry.id)[0]).toBe(previous?.id);
    await releases.swap();
    expect(await nginx()).toBe("two");
  });

  it("does not keep the same release twice (the previous one started again by an up)", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    const releases = composeReleases(dir);
    await release("services:\n  web: {}\n", "one");
    await releases.keep();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await releases.keep();
    expect(await releases.list()).toHaveLength(1);
  });

  it("records the kept data, prepares it meanwhile, and a failed preparation only warns", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    const releases = composeReleases(dir);
    await release("services:\n  web: {}\n", "one");
    await releases.keep();
    const order: string[] = [];
    const progress = new SilentProgress();
    const steps = keptDataSteps(
      releases,
      async () => ({
        snapshot: "before-release-1",
        prepare: async () => {
          order.push("prepare started");
          await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error("disk full");
        },
      }),
      progress,
    );
    await progress.run([
      steps.before,
      { title: "start the new release", run: async () => void order.push("new release") },
      steps.after,
    ]);
    expect(order).toEqual(["prepare started", "new release"]);
    expect(recorded(await releases.kept())).toEqual({ dataSnapshot: "before-release-1" });
    expect(progress.warnings.join("\n")).toContain(
      "before-release-1 was kept but not prepared (disk full)",
    );
  });

  it("waits with the preparation until the new release started when the database is replaced", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    const releases = composeReleases(dir);
    await release("services:\n  web: {}\n", "one");
    await releases.begin();
    const order: string[] = [];
    const progress = new SilentProgress();
    const steps = keptDataSteps(
      releases,
      async () => ({
        snapshot: "before-release-1",
        prepare: async () => void order.push("prepare"),
      }),
      progress,
      { prepareAfterStart: true },
    );
    await progress.run([
      steps.before,
      { title: "start the new release", run: async () => void order.push("new release") },
      steps.after,
    ]);
    expect(order).toEqual(["new release", "prepare"]);
    // Recorded with the release set aside, which becomes the previous one on commit.
    await releases.commit();
    expect(recorded(await releases.kept())).toEqual({ dataSnapshot: "before-release-1" });
  });
});

describe("replacing a release (begin, then commit or put back)", () => {
  async function twoKept(): Promise<ReleaseFiles> {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-release-"));
    const releases = composeReleases(dir);
    for (const name of ["one", "two"]) {
      await release("services:\n  web: {}\n", name);
      await releases.begin();
      await releases.commit();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await release("services:\n  web: {}\n", "three");
    return releases;
  }

  it("makes the release it replaced the previous one once the new one came up", async () => {
    const releases = await twoKept();
    await releases.begin({ dataSnapshot: "before-release-3" });
    await release("services:\n  web: {}\n", "four");
    await releases.commit();
    expect(await pathExists(releases.incoming)).toBe(false);
    const [previous, older] = await releases.list();
    expect(previous?.dataSnapshot).toBe("before-release-3");
    // An older release keeps no data: only the previous one's snapshot is kept.
    expect(older?.dataSnapshot).toBeUndefined();
    await releases.swap();
    expect(await nginx()).toBe("three");
  });

  it("changes no kept release when the new one failed: rollback then goes to the one before", async () => {
    const releases = await twoKept();
    const before = await releases.list();
    await releases.begin({ dataSnapshot: "before-release-3" });
    await release("services:\n  web: {}\n", "broken");
    // What the release set aside recorded comes back with it.
    expect(await releases.putBack()).toMatchObject({ dataSnapshot: "before-release-3" });
    // The release that ran before the attempt is in place again…
    expect(await nginx()).toBe("three");
    // …and the kept ones are what they were (the old bug: the running one became the
    // previous, the real previous went to the history).
    expect(await releases.list()).toEqual(before);
    await releases.swap();
    expect(await nginx()).toBe("two");
  });

  it("after an up killed mid-attempt, the next one keeps the release that ran, not the attempt", async () => {
    const releases = await twoKept();
    const before = await releases.list();
    await releases.begin();
    await release("services:\n  web: {}\n", "half-applied");
    // kill -9 here. The next up puts the running release back before it compares…
    expect(await releases.putBack()).toBeDefined();
    expect(await nginx()).toBe("three");
    // …and a second begin keeps what ran, whatever the current files say.
    await releases.begin();
    await release("services:\n  web: {}\n", "four");
    await new Promise((resolve) => setTimeout(resolve, 5));
    await releases.begin();
    await releases.commit();
    const after = await releases.list();
    expect(after).toHaveLength(2);
    expect(after[1]?.id).toBe(before[0]?.id);
    await releases.swap();
    expect(await nginx()).toBe("three");
  });

  it("drops what was set aside when the new release was never switched to", async () => {
    const releases = await twoKept();
    const before = await releases.list();
    await releases.begin();
    await releases.abandon();
    expect(await pathExists(releases.incoming)).toBe(false);
    expect(await releases.list()).toEqual(before);
    expect(await nginx()).toBe("three");
    expect(await releases.putBack()).toBeUndefined();
  });
});
