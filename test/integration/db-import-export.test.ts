import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLI,
  copyExample,
  describeFailure,
  discardProject,
  expectOk,
  httpGet,
  jsonField,
  shellIn,
  type TestProject,
  upForWebUrl,
} from "./support/harness.js";

// db import / export on the real engine: real MariaDB, real dumps, and the promise that
// a failed import leaves the live data exactly as it was.

let project: TestProject;
let webUrl: string;

function dump(greeting: string, options: { trailer?: boolean; extra?: string } = {}): string {
  return [
    "-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)",
    "USE `production`;",
    "DROP TABLE IF EXISTS `greeting`;",
    "CREATE TABLE `greeting` (`id` int NOT NULL, `message` varchar(255) NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci;",
    `INSERT INTO \`greeting\` VALUES (1,'${greeting}');`,
    "CREATE TABLE `node` (`nid` int NOT NULL) ENGINE=InnoDB;",
    "INSERT INTO `node` VALUES (1),(2),(3);",
    "DELIMITER ;;",
    "/*!50003 CREATE*/ /*!50017 DEFINER=`produser`@`%`*/ /*!50003 TRIGGER node_ai AFTER INSERT ON node FOR EACH ROW SET @n = NEW.nid */;;",
    "DELIMITER ;",
    options.extra ?? "",
    ...(options.trailer === false ? [] : ["-- Dump completed on 2026-11-20 10:00:00"]),
    "",
  ].join("\n");
}

async function tables(): Promise<string[]> {
  const result = await shellIn(project, "db", 'mariadb -N -e "SHOW TABLES" "$MARIADB_DATABASE"');
  expectOk(result);
  return result.stdout.split("\n").filter(Boolean).sort();
}

async function greetingShown(): Promise<string> {
  const page = await httpGet(`${webUrl}/`);
  return /<span id="greeting">([^<]*)<\/span>/.exec(page.body)?.[1] ?? "";
}

beforeAll(async () => {
  project = await copyExample("it-db");
  webUrl = await upForWebUrl(project);
}, 600_000);

afterAll(async () => {
  await discardProject(project);
});

// A hang is a failure here, not a ten-minute wait.
describe("prodlike db import / export", { timeout: 180_000 }, () => {
  const first = `first-${randomBytes(3).toString("hex")}`;

  it("imports a MySQL 8-flavoured gzip dump, replacing the data and dropping local-only tables", async () => {
    const localOnly = await shellIn(
      project,
      "db",
      'mariadb -e "CREATE TABLE local_only (x int)" "$MARIADB_DATABASE"',
    );
    expectOk(localOnly);
    const file = path.join(project.dir, "first.sql.gz");
    await writeFile(file, gzipSync(dump(first)));
    const result = await project.cli(["db", "import", file, "--json"]);
    expectOk(result);
    expect(result.json).toMatchObject({ ok: true, command: "db import", tables: 2 });
    // A file from a dump tool loads its rows over several connections.
    expect(Number(result.json?.connections)).toBeGreaterThanOrEqual(2);
    expect(result.json?.fixes).toEqual([
      "removed 1 DEFINER clause(s)",
      "mapped 1 MySQL 8 collation(s) to utf8mb4_unicode_ci",
      "ignored 1 CREATE/DROP DATABASE/USE line(s) of its own database",
    ]);
    expect(await greetingShown()).toBe(first);
    expect(await tables()).toEqual(["greeting", "node"]);
    // The trigger came along into the live database.
    const triggers = await shellIn(
      project,
      "db",
      'mariadb -N -e "SHOW TRIGGERS" "$MARIADB_DATABASE"',
    );
    expect(triggers.stdout).toContain("node_ai");
  });

  it("leaves the live data intact when the dump is truncated, corrupt or broken", async () => {
    const truncated = path.join(project.dir, "truncated.sql");
    await writeFile(truncated, dump("never-1", { trailer: false }));
    const corrupt = path.join(project.dir, "corrupt.sql.gz");
    await writeFile(corrupt, gzipSync(dump("never-2")).subarray(0, 120));
    const broken = path.join(project.dir, "broken.sql");
    await writeFile(broken, dump("never-3", { extra: "CREATE TABLE oops (;" }));
    for (const file of [truncated, corrupt, broken]) {
      const result = await project.cli(["db", "import", file, "--json"]);
      expect(result.exitCode, describeFailure(result)).toBe(1);
      expect(result.json).toMatchObject({ ok: false, error: { code: "IMPORT_FAILED" } });
      expect(jsonField<{ hint: string }>(result, "error").hint).toContain(
        "The live database was not changed",
      );
      expect(await greetingShown()).toBe(first);
      expect(await tables()).toEqual(["greeting", "node"]);
    }
  });

  it("leaves the live data intact when interrupted with Ctrl-C", async () => {
    const importing = execa("node", [CLI, "db", "import", "-"], {
      cwd: project.dir,
      reject: false,
      env: { PRODLIKE_HOME: project.home, NO_COLOR: "1", CI: "true" },
      stdin: "pipe",
    });
    // Half a dump, then the input stays open as a slow download would.
    importing.stdin?.write(dump("never-4").split("CREATE TABLE `node`")[0]);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    importing.kill("SIGINT");
    const result = await importing;
    expect(result.exitCode, result.stderr).toBe(130);
    expect(result.stderr).toContain("INTERRUPTED");
    expect(await greetingShown()).toBe(first);
    const databases = await project.cli([
      "exec",
      "db",
      "--",
      "mariadb",
      "-N",
      "-e",
      "SHOW DATABASES",
    ]);
    expect(databases.stdout).not.toContain("__prodlike_");
  });

  it("exports a gzip dump that imports back, also through stdin", async () => {
    const file = path.join(project.dir, "export.sql.gz");
    const exported = await project.cli(["db", "export", file, "--json"]);
    expectOk(exported);
    expect(exported.json).toMatchObject({ ok: true, gzip: true, file });
    const sql = gunzipSync(await readFile(file)).toString("utf8");
    expect(sql).toContain(`'${first}'`);
    expect(sql.trimEnd()).toMatch(/-- Dump completed on/);

    const second = `second-${randomBytes(3).toString("hex")}`;
    expectOk(await project.cli(["db", "import", "-"], { input: dump(second) }));
    expect(await greetingShown()).toBe(second);
    expectOk(await project.cli(["db", "import", file]));
    expect(await greetingShown()).toBe(first);
  });
});
