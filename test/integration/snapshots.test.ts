import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  copyExample,
  discardProject,
  expectOk,
  httpGet,
  jsonField,
  rootSql,
  shellIn,
  type TestProject,
  upForWebUrl,
} from "./support/harness.js";

// Physical snapshots on the real engine: mariabackup while the server runs, a restore
// that switches data folders and restarts MariaDB, checksums, pinning and pruning.

let project: TestProject;
let webUrl: string;

const sql = (statement: string) => rootSql(project, statement);

beforeAll(async () => {
  project = await copyExample("it-snap");
  webUrl = await upForWebUrl(project);
}, 600_000);

afterAll(async () => {
  await discardProject(project);
});

describe("prodlike snapshot", { timeout: 180_000 }, () => {
  const before = `before-${randomBytes(3).toString("hex")}`;

  it("snapshots while the server runs and restores the exact data", async () => {
    await sql(
      `REPLACE INTO greeting VALUES (1, '${before}'); CREATE TABLE IF NOT EXISTS big (id int PRIMARY KEY, v text);`,
    );
    await sql("INSERT INTO big SELECT seq, REPEAT('x', 200) FROM seq_1_to_20000;");
    const created = await project.cli(["snapshot", "create", "base", "--pin", "--json"]);
    expectOk(created);
    const snapshot = jsonField<{ name: string; sha256: string; bytes: number; pinned: boolean }>(
      created,
      "snapshot",
    );
    // Prepared on the data volume as it is made: the restore is a rename.
    expect(snapshot).toMatchObject({ name: "base", pinned: true, ready: true });
    expect(snapshot.sha256).toMatch(/^[0-9a-f]{64}$/);

    await sql("UPDATE greeting SET message = 'after'; DROP TABLE big; CREATE TABLE later (x int);");
    const restored = await project.cli(["snapshot", "restore", "base", "--json"]);
    expectOk(restored);
    expect(jsonField(restored, "snapshot")).toMatchObject({ path: "prepared", readyAgain: true });
    expect(await sql("SELECT message FROM greeting WHERE id = 1")).toBe(before);
    expect(await sql("SELECT COUNT(*) FROM big")).toBe("20000");
    expect(await sql("SHOW TABLES LIKE 'later'")).toBe("");
    // Restore returns once the server answers: the site reads the restored row at once,
    // through the application's own login (php-fpm -> MariaDB over the network).
    const page = await httpGet(`${webUrl}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`<span id="greeting">${before}</span>`);
  });

  it("restores the same snapshot again just as quickly: its copy was prepared again", async () => {
    const listed = await project.cli(["snapshot", "list", "--json"]);
    expectOk(listed);
    expect(jsonField<{ name: string; ready: boolean }[]>(listed, "snapshots")).toEqual([
      expect.objectContaining({ name: "base", ready: true, readyBytes: expect.any(Number) }),
    ]);
    await sql("UPDATE greeting SET message = 'again'; DROP TABLE big;");
    const again = await project.cli(["snapshot", "restore", "base", "--json"]);
    expectOk(again);
    expect(jsonField(again, "snapshot")).toMatchObject({ path: "prepared" });
    expect(await sql("SELECT message FROM greeting WHERE id = 1")).toBe(before);
    expect(await sql("SELECT COUNT(*) FROM big")).toBe("20000");
  });

  it("refuses a prepared copy that no longer matches its manifest, before the switch, and unpacks the snapshot instead", async () => {
    expectOk(await project.cli(["snapshot", "create", "tampered"]));
    await sql("UPDATE greeting SET message = 'changed later'");
    // A table file of the copy cut short, as a full disk or a stray rm would leave it.
    const cut = await shellIn(
      project,
      "db",
      'f=$(find /var/lib/mysql/.prodlike-prepared/tampered -name "greeting.ibd") && truncate -s 16384 "$f" && echo "$f"',
    );
    expectOk(cut);
    expect(cut.stdout).toContain("greeting.ibd");
    const restored = await project.cli(["snapshot", "restore", "tampered"]);
    expectOk(restored);
    const said = `${restored.stdout}\n${restored.stderr}`;
    expect(said).toContain("tampered's prepared copy no longer matches its manifest");
    expect(said).toContain("unpacked from the snapshot");
    expect(said).toContain("tampered is prepared again for the next restore");
    expect(await sql("SELECT message FROM greeting WHERE id = 1")).toBe(before);
    expect(await sql("SELECT COUNT(*) FROM big")).toBe("20000");
  });

  it("refuses a snapshot whose data no longer matches its checksum, touching nothing", async () => {
    expectOk(await project.cli(["snapshot", "create", "damaged"]));
    await sql("UPDATE greeting SET message = 'kept'");
    // Its prepared copy removed: the restore reads the damaged stream.
    expectOk(await shellIn(project, "db", "rm -rf /var/lib/mysql/.prodlike-prepared/damaged*"));
    const file = path.join(
      project.home,
      "snapshots",
      `${project.name}-local`,
      "damaged",
      "data.mbstream",
    );
    const data = await readFile(file);
    const middle = Math.floor(data.length / 2);
    data[middle] = (data[middle] ?? 0) ^ 0xff;
    await writeFile(file, data);
    const restored = await project.cli(["snapshot", "restore", "damaged", "--json"]);
    expect(restored.exitCode).toBe(1);
    expect(restored.json).toMatchObject({ error: { code: "SNAPSHOT_CORRUPT" } });
    expect(await sql("SELECT message FROM greeting WHERE id = 1")).toBe("kept");
  });

  it("prunes the oldest unpinned snapshots and keeps pinned ones", async () => {
    expectOk(await project.cli(["snapshot", "create", "later-1"]));
    expectOk(await project.cli(["snapshot", "create", "later-2"]));
    const pruned = await project.cli(["snapshot", "prune", "--keep", "1", "--json"]);
    expectOk(pruned);
    const names = (list: { name: string }[]) => list.map((meta) => meta.name);
    expect(names(jsonField(pruned, "removed"))).toEqual(["tampered", "damaged", "later-1"]);
    expect(names(jsonField(pruned, "kept"))).toEqual(["base", "later-2"]);
    // Their prepared copies went with them.
    const copies = await shellIn(project, "db", "ls /var/lib/mysql/.prodlike-prepared");
    expect(copies.stdout.trim().split("\n").sort()).toEqual([
      "base",
      "base.manifest",
      "later-2",
      "later-2.manifest",
    ]);
    const missing = await project.cli(["snapshot", "restore", "later-1"]);
    expect(missing.exitCode).toBe(4);
  });

  it("destroy removes the environment's snapshots with it", async () => {
    const destroyed = await project.cli(["destroy", "--keep-images", "--json"]);
    expectOk(destroyed);
    expect(jsonField<{ snapshots: string[] }>(destroyed, "removed").snapshots.sort()).toEqual([
      "base",
      "later-2",
    ]);
    const folder = path.join(project.home, "snapshots", `${project.name}-local`);
    await expect(readFile(path.join(folder, "base", "snapshot.json"))).rejects.toThrow(/ENOENT/);
  });
});
