import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  copyExample,
  discardProject,
  expectOk,
  jsonField,
  rootSql,
  type TestProject,
  upForWebUrl,
} from "./support/harness.js";

// Restores from a prepared copy on a 200 MB and a 1 GB database: the data checked with
// CHECKSUM TABLE against the value before the snapshot, the time until the database
// answered recorded in the test output (the speed goal itself is a benchmark:
// bench/snapshot-scale.js).

let project: TestProject;
const sql = (statement: string) => rootSql(project, statement);

beforeAll(async () => {
  project = await copyExample("it-snapscale");
  await upForWebUrl(project);
}, 600_000);

afterAll(async () => {
  await discardProject(project);
});

describe("prepared snapshots at scale", { timeout: 600_000 }, () => {
  for (const { label, rows } of [
    { label: "200 MB", rows: 200_000 },
    { label: "1 GB", rows: 1_000_000 },
  ]) {
    it(`restores a ${label} database from its prepared copy, the same to the checksum`, async () => {
      await sql(
        `DROP TABLE IF EXISTS big; CREATE TABLE big (id int PRIMARY KEY, v varchar(1000)); INSERT INTO big SELECT seq, REPEAT(SHA2(seq, 256), 15) FROM seq_1_to_${rows};`,
      );
      const checksum = await sql("CHECKSUM TABLE big");
      const name = `scale-${rows}`;
      const created = await project.cli(["snapshot", "create", name, "--json"]);
      expectOk(created);
      expect(jsonField(created, "snapshot")).toMatchObject({ ready: true });
      await sql("DELETE FROM big WHERE id % 3 = 0; UPDATE big SET v = 'changed' WHERE id < 1000;");
      expect(await sql("CHECKSUM TABLE big")).not.toBe(checksum);
      const restored = await project.cli(["snapshot", "restore", name, "--json"]);
      expectOk(restored);
      const snapshot = jsonField<{ path: string; switchMs: number; bytes: number }>(
        restored,
        "snapshot",
      );
      expect(snapshot.path).toBe("prepared");
      expect(await sql("CHECKSUM TABLE big")).toBe(checksum);
      process.stdout.write(
        `prepared restore, ${label} (stream ${(snapshot.bytes / 1e6).toFixed(0)} MB): database answered after ${(snapshot.switchMs / 1000).toFixed(2)} s\n`,
      );
      expectOk(await project.cli(["snapshot", "prune", "--keep", "0"]));
    });
  }
});
