import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  copyExample,
  discardProject,
  docker,
  expectOk,
  httpGet,
  jsonField,
  resourcesOf,
  rootSql,
  type TestProject,
  webUrlOf,
} from "./support/harness.js";

// Copy-on-write seeds on the real engine: environments seeded from one snapshot start on
// its prepared data, layered (an overlay volume over a read-only seed), nothing copied.
// Each keeps its own writes; none sees another's; the seed and the snapshot stay as they
// were; the snapshot is pinned while any of them uses it and a prune never takes it;
// destroying the last user removes the seed.

let project: TestProject;
const envId = (name: string) => `${project.name}-${name}`;
const marker = `cow-${process.pid}`;
const QA = ["qa-1", "qa-2", "qa-3"];

interface Seeded {
  from: string;
  snapshot?: string;
  applied: boolean;
  method?: string;
  seed?: string;
  copiedBecause?: string;
}

interface ListedSnapshot {
  name: string;
  sha256: string;
  usedBy?: string[];
}

const sql = (name: string, statement: string) => rootSql(project, statement, name);

async function snapshots(): Promise<ListedSnapshot[]> {
  const list = await project.cli(["snapshot", "list", "--json"]);
  expectOk(list);
  return jsonField<ListedSnapshot[]>(list, "snapshots");
}

async function seedVolumes(): Promise<{ name: string; labels: Record<string, string> }[]> {
  const { Volumes } = await docker.listVolumes({ filters: { label: ["dev.prodlike.seed"] } });
  return (Volumes ?? [])
    .filter((volume) => volume.Labels?.["dev.prodlike.seed.source"] === envId("local"))
    .map((volume) => ({ name: volume.Name, labels: volume.Labels ?? {} }));
}

/** Every file of a volume (path, size, sha256), read in a throwaway container. */
async function volumeDigest(volume: string, image: string): Promise<string> {
  const { stdout } = await execa("docker", [
    "run",
    "--rm",
    "--network",
    "none",
    "--mount",
    `type=volume,source=${volume},target=/v,readonly`,
    "--entrypoint",
    "sh",
    image,
    "-c",
    "cd /v && find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2",
  ]);
  return stdout;
}

/** The files in each environment's upper layer (its own writes) and their disk in KiB. */
async function upperFiles(
  image: string,
  names: readonly string[],
): Promise<{ files: string[]; kib: number }[]> {
  return Promise.all(
    names.map(async (name) => {
      const { stdout } = await execa("docker", [
        "run",
        "--rm",
        "--network",
        "none",
        "--mount",
        `type=volume,source=${envId(name)}_db-data-upper,target=/u,readonly`,
        "--entrypoint",
        "sh",
        image,
        "-c",
        "du -sk /u | cut -f1; cd /u && find . -type f | sed 's|^./||'",
      ]);
      const [kib = "0", ...files] = stdout.split("\n");
      return { kib: Number(kib), files };
    }),
  );
}

async function dbImage(name: string): Promise<string> {
  const [container] = await docker.listContainers({
    all: true,
    filters: { label: [`dev.prodlike.env=${envId(name)}`, "dev.prodlike.service=db"] },
  });
  if (!container) throw new Error(`no db container for ${name}`);
  return container.Image;
}

beforeAll(async () => {
  project = await copyExample("it-cow");
  expectOk(await project.cli(["up"]));
  await sql(
    "local",
    `CREATE TABLE IF NOT EXISTS greeting (id INT PRIMARY KEY, message VARCHAR(255) NOT NULL); DELETE FROM greeting; INSERT INTO greeting VALUES (1, '${marker}');
     CREATE TABLE bulk (id INT AUTO_INCREMENT PRIMARY KEY, pad VARCHAR(1000)) ENGINE=InnoDB;
     INSERT INTO bulk (pad) SELECT REPEAT('x', 1000) FROM seq_1_to_20000;`,
  );
  expectOk(await project.cli(["snapshot", "create", "base"]));
}, 900_000);

afterAll(async () => {
  await discardProject(project, ["local", ...QA, "qa-4"]);
});

describe("copy-on-write seeds", { timeout: 900_000 }, () => {
  it("starts three environments on one snapshot, layered: each writes its own, none sees another's, the seed unchanged", async () => {
    for (const name of QA) {
      const up = await project.cli(["up", "--name", name, "--seed-from", "local:base", "--json"]);
      expectOk(up);
      const seeded = jsonField<Seeded>(up, "seeded");
      expect(seeded).toMatchObject({
        from: envId("local"),
        snapshot: "base",
        applied: true,
        method: "layered",
      });
      expect((await httpGet(`${webUrlOf(up)}/`)).body).toContain(
        `<span id="greeting">${marker}</span>`,
      );
    }
    // One seed for the three, on the engine, labelled with its source and snapshot.
    const [seed, ...others] = await seedVolumes();
    expect(others).toEqual([]);
    expect(seed?.labels["dev.prodlike.seed.snapshot"]).toBe("base");
    const image = await dbImage("local");
    const seedBefore = await volumeDigest(seed?.name ?? "", image);
    expect(seedBefore).toContain("./data-seed/ibdata1");
    expect(seedBefore).not.toMatch(/\/undo\d+/);

    // Each database volume is an overlay on the seed, labelled as the environment's own.
    for (const name of QA) {
      const volume = await docker.getVolume(`${envId(name)}_db-data`).inspect();
      expect(volume.Options).toMatchObject({ type: "overlay", device: "overlay" });
      expect(String(volume.Options?.o)).toContain(
        `lowerdir=${(await docker.getVolume(seed?.name ?? "").inspect()).Mountpoint}`,
      );
      expect(volume.Labels?.["dev.prodlike.env"]).toBe(envId(name));
    }

    for (const [index, name] of QA.entries()) {
      await sql(name, `INSERT INTO greeting VALUES (${index + 10}, '${name}');`);
    }
    for (const [index, name] of QA.entries()) {
      const rows = await sql(name, "SELECT id FROM greeting ORDER BY id");
      expect(rows.split("\n")).toEqual(["1", String(index + 10)]);
    }
    expect(await sql("local", "SELECT COUNT(*) FROM greeting")).toBe("1");
    expect(await sql("qa-2", "SELECT COUNT(*) FROM bulk")).toBe("20000");

    // The seed is as it was filled: every write went to the environments' own layers.
    expect(await volumeDigest(seed?.name ?? "", image)).toBe(seedBefore);
    // The snapshot itself is untouched (its stored data still matches its checksum).
    const [base] = await snapshots();
    const stored = await readFile(
      path.join(project.home, "snapshots", envId("local"), "base", "data.mbstream"),
    );
    expect(createHash("sha256").update(stored).digest("hex")).toBe(base?.sha256);

    // Their own layers hold the files they wrote, nothing else of the seed: overlayfs
    // copies a file up whole when it is first opened for writing, so InnoDB's system
    // tablespace and redo log and the tables written are there; the 20 MB table qa-1 and qa-3
    // never opened is not (qa-2 read it: InnoDB opens a table read-write, so it was).
    const uppers = await upperFiles(image, QA);
    const sizes = QA.map((name, index) => `${name}: ${uppers[index]?.kib} KiB`).join(", ");
    expect(uppers[0]?.files, sizes).not.toContain("data-seed/drupal/bulk.ibd");
    expect(uppers[2]?.files, sizes).not.toContain("data-seed/drupal/bulk.ibd");
    expect(uppers[1]?.files, sizes).toContain("data-seed/drupal/bulk.ibd");
    for (const upper of uppers) expect(upper.files).toContain("data-seed/drupal/greeting.ibd");
    // The seed was shaped when it was made (no undo tablespaces, small system files): a
    // layer that wrote one row holds ~18 MB, where the unshaped copy cost ~57 MB.
    for (const upper of uppers) {
      expect(
        upper.files.filter((file) => /\/undo\d+$/.test(file)),
        sizes,
      ).toEqual([]);
    }
    expect(uppers[0]?.kib, sizes).toBeLessThan(32 * 1024);
  });

  it("pins the snapshot while an environment uses it: listed with its users, never pruned; the last destroy removes the seed", async () => {
    expect((await snapshots()).find((meta) => meta.name === "base")?.usedBy).toEqual(QA.map(envId));
    const prune = await project.cli(["snapshot", "prune", "--keep", "0", "--json"]);
    expectOk(prune);
    expect(jsonField<unknown[]>(prune, "removed")).toEqual([]);
    expect((await snapshots()).map((meta) => meta.name)).toEqual(["base"]);

    expectOk(await project.cli(["destroy", "--name", "qa-1"]));
    expectOk(await project.cli(["destroy", "--name", "qa-2"]));
    expect((await snapshots()).find((meta) => meta.name === "base")?.usedBy).toEqual([
      envId("qa-3"),
    ]);
    expect(await seedVolumes()).toHaveLength(1);
    // qa-3 still runs on it, its own row there.
    expect(await sql("qa-3", "SELECT message FROM greeting WHERE id = 12")).toBe("qa-3");

    expectOk(await project.cli(["destroy", "--name", "qa-3"]));
    expect(await seedVolumes()).toEqual([]);
    expect((await snapshots()).find((meta) => meta.name === "base")?.usedBy).toBeUndefined();
    const left = await resourcesOf(envId("qa-3"));
    expect(left).toMatchObject({ containers: [], volumes: [], networks: [] });
  });

  it("seeding from a snapshot while it is being pruned waits or refuses, and never loses it", async () => {
    expectOk(await project.cli(["snapshot", "create", "base2"]));
    const [seeding, pruning] = await Promise.all([
      project.cli(["up", "--name", "qa-4", "--seed-from", "local:base2", "--json"]),
      project.cli(["snapshot", "prune", "--keep", "0", "--json"]),
    ]);
    expectOk(pruning);
    if (seeding.exitCode === 0) {
      // The prune waited for the seed and then left the snapshot in use alone.
      expect(jsonField<Seeded>(seeding, "seeded").method).toBe("layered");
      expect(await sql("qa-4", "SELECT message FROM greeting WHERE id = 1")).toBe(marker);
      expect((await snapshots()).map((meta) => [meta.name, meta.usedBy])).toEqual([
        ["base2", [envId("qa-4")]],
      ]);
    } else {
      // The prune came first: the seed is refused with the snapshot's own error.
      expect(seeding.json?.error).toMatchObject({ code: "SNAPSHOT_NOT_FOUND" });
      expect(await seedVolumes()).toEqual([]);
      expect(await snapshots()).toEqual([]);
    }
  });
});
