import { appendFile, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../support/example-project.js";
import {
  productionSeedSql,
  pullConfigYaml,
  startProductionServer,
} from "../support/production-server.js";
import {
  copyExample,
  discardProject,
  expectOk,
  jsonField,
  shellIn,
  type TestProject,
} from "./support/harness.js";

// db pull --subset against a "production" server over real ssh (mysqldump strategy):
// Drupal's rules keep the newest nodes with their fields, tags, files and authors, the
// rest whole; every check of the preset (rows pointing at nothing) answers 0 on the
// slice, which is smaller than production by the rules, and sanitized as a full pull is.

type Production = Awaited<ReturnType<typeof startProductionServer>>;
let production: Production;
let project: TestProject;
const NODES = 2000;
const ROWS = 50;

// A Drupal-shaped slice of production beside the fixture's tables: authors, body fields,
// tags, files and comments, each pointing at nodes or users.
const DRUPAL_REFERENCES = `
ALTER TABLE node_field_data ADD COLUMN uid INT;
UPDATE node_field_data SET uid = 1 + (nid % 500);
CREATE TABLE node__body (entity_id INT, body_value TEXT) ENGINE=InnoDB;
INSERT INTO node__body SELECT nid, body FROM node_field_data;
CREATE TABLE taxonomy_term_field_data (tid INT PRIMARY KEY, name VARCHAR(255)) ENGINE=InnoDB;
INSERT INTO taxonomy_term_field_data SELECT seq, CONCAT('Tag ', seq) FROM seq_1_to_40;
CREATE TABLE taxonomy_index (nid INT, tid INT) ENGINE=InnoDB;
INSERT INTO taxonomy_index SELECT nid, 1 + (nid % 40) FROM node_field_data;
INSERT INTO taxonomy_index SELECT nid, 1 + ((nid + 7) % 40) FROM node_field_data;
CREATE TABLE file_managed (fid INT PRIMARY KEY, uid INT, uri VARCHAR(255)) ENGINE=InnoDB;
INSERT INTO file_managed SELECT nid, 1 + ((nid * 3) % 500), CONCAT('public://image-', nid, '.jpg') FROM node_field_data WHERE nid % 10 = 0;
CREATE TABLE file_usage (fid INT, module VARCHAR(50), type VARCHAR(64), id INT, count INT) ENGINE=InnoDB;
INSERT INTO file_usage SELECT fid, 'file', 'node', fid, 1 FROM file_managed;
CREATE TABLE comment_field_data (cid INT PRIMARY KEY, entity_id INT, uid INT, mail VARCHAR(254), hostname VARCHAR(128), homepage VARCHAR(255)) ENGINE=InnoDB;
INSERT INTO comment_field_data SELECT nid, nid, 1 + ((nid * 7) % 500), 'reader@customer.example', '203.0.113.9', NULL FROM node_field_data WHERE nid % 3 = 0;
`;

async function localSql(sql: string): Promise<string> {
  const result = await shellIn(
    project,
    "db",
    'exec mariadb --default-character-set=utf8mb4 -N -B "$MARIADB_DATABASE"',
    { input: sql },
  );
  expectOk(result);
  return result.stdout.trim();
}

const count = async (table: string) => Number(await localSql(`SELECT COUNT(*) FROM ${table}`));
const productionCount = async (table: string) =>
  Number((await production.sql(`SELECT COUNT(*) FROM ${table}`)).trim());

beforeAll(async () => {
  production = await startProductionServer("subset");
  await production.sql(productionSeedSql(NODES));
  await production.sql(DRUPAL_REFERENCES);
  project = await copyExample("it-subset");
  await appendFile(path.join(project.dir, "prodlike.yaml"), pullConfigYaml(production));
  expectOk(await project.cli(["up", "--json"]));
}, 900_000);

afterAll(async () => {
  await discardProject(project);
  await production?.stop();
});

describe("prodlike db pull --subset", { timeout: 300_000 }, () => {
  it("keeps the newest nodes and everything they reference; every check of the preset holds", async () => {
    const result = await project.cli([
      "db",
      "pull",
      "--from",
      "prod",
      "--subset",
      String(ROWS),
      "--json",
    ]);
    expectOk(result);
    const subset = jsonField<{ rows: number; statements: number; checks: string[] }>(
      result,
      "subset",
    );
    expect(subset.rows).toBe(ROWS);
    expect(subset.checks.length).toBeGreaterThanOrEqual(5);

    // The newest nodes, their fields, tags and comments.
    expect(await localSql("SELECT COUNT(*), MIN(nid), MAX(nid) FROM node_field_data")).toBe(
      `${ROWS}\t${NODES - ROWS + 1}\t${NODES}`,
    );
    expect(await count("node__body")).toBe(ROWS);
    expect(await count("taxonomy_index")).toBe(2 * ROWS);
    expect(await count("comment_field_data")).toBe(
      Number(
        await production.sql(
          `SELECT COUNT(*) FROM comment_field_data WHERE entity_id > ${NODES - ROWS}`,
        ),
      ),
    );
    // Their files, and no other.
    expect(await count("file_managed")).toBe(ROWS / 10);
    // The users they name, the anonymous user and the first admin; no one else.
    const authors = Number(
      await production.sql(
        `SELECT COUNT(DISTINCT uid) FROM (SELECT uid FROM node_field_data WHERE nid > ${NODES - ROWS} UNION SELECT uid FROM file_managed WHERE fid > ${NODES - ROWS} UNION SELECT uid FROM comment_field_data WHERE entity_id > ${NODES - ROWS} UNION SELECT 0 UNION SELECT 1) AS named`,
      ),
    );
    expect(await count("users_field_data")).toBe(authors);
    // Tables no rule names are whole.
    expect(await count("taxonomy_term_field_data")).toBe(40);

    // Every check the preset declares answers 0 here (rows pointing at nothing).
    const preset = parse(
      await readFile(path.join(repoRoot, "presets", "drupal", "preset.yaml"), "utf8"),
    ) as { pull: { subset: { checks: { name: string; sql: string }[] } } };
    expect(preset.pull.subset.checks.length).toBeGreaterThanOrEqual(5);
    for (const check of preset.pull.subset.checks) {
      expect(await localSql(check.sql), check.name).toBe("0");
    }
    // Smaller than the whole by the rules.
    expect(await productionCount("node_field_data")).toBe(NODES);
    expect(await productionCount("users_field_data")).toBe(501);
    expect(await count("users_field_data")).toBeLessThan(501);

    // Sanitized as a full pull is.
    expect(
      await localSql("SELECT COUNT(*) FROM users_field_data WHERE mail LIKE '%@customer.example'"),
    ).toBe("0");
    expect(
      await localSql("SELECT COUNT(*) FROM comment_field_data WHERE hostname <> '127.0.0.1'"),
    ).toBe("0");
    const status = await project.cli(["status", "--json"]);
    expect(jsonField<{ data?: { source: string } }>(status, "environment").data?.source).toContain(
      `a subset (${ROWS} rows)`,
    );
  });
});
