import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLI,
  copyExample,
  describeFailure,
  discardProject,
  docker,
  envFilter,
  expectOk,
  resourcesOf,
  rootSql,
  shellIn,
  type TestProject,
  upForWebUrl,
} from "./support/harness.js";

// The database is never lost and a dump never reaches beyond its own tables, on the real
// engine: two imports at once, standard and hostile dumps, empty input, kill -9, a full
// disk, and a small fuzz. Each case checks the live data (a fingerprint of a full dump)
// and a second database the dump must not touch.

let project: TestProject;
let envId: string;

const HEADER = "-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)";
const TRAILER = "-- Dump completed on 2026-11-20 10:00:00";

function dump(rows: number, tag: string, extra: string[] = []): string {
  const values = Array.from({ length: rows }, (_, index) => `(${index},'${tag}-${index}')`);
  const inserts: string[] = [];
  for (let at = 0; at < values.length; at += 5000) {
    inserts.push(`INSERT INTO \`item\` VALUES ${values.slice(at, at + 5000).join(",")};`);
  }
  return [
    HEADER,
    "DROP TABLE IF EXISTS `item`;",
    "CREATE TABLE `item` (`id` int NOT NULL, `label` varchar(64) NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
    ...inserts,
    ...extra,
    TRAILER,
    "",
  ].join("\n");
}

/** A fingerprint of the live database: its full dump, hashed in the container. */
async function live(): Promise<string> {
  const result = await shellIn(
    project,
    "db",
    'mariadb-dump --skip-comments --skip-dump-date "$MARIADB_DATABASE" | sha256sum',
  );
  expectOk(result);
  return result.stdout.trim();
}

async function otherDb(): Promise<string> {
  return rootSql(project, "SELECT GROUP_CONCAT(v ORDER BY v) FROM otherdb.t;");
}

async function databases(): Promise<string[]> {
  return (await rootSql(project, "SHOW DATABASES;")).split("\n").filter(Boolean).sort();
}

async function write(name: string, content: string | Buffer): Promise<string> {
  const file = path.join(project.dir, name);
  await writeFile(file, content);
  return file;
}

function startImport(file: string, extra: string[] = []) {
  return execa("node", [CLI, "db", "import", file, "--json", ...extra], {
    cwd: project.dir,
    reject: false,
    env: { PRODLIKE_HOME: project.home, NO_COLOR: "1", CI: "true" },
    stdin: "ignore",
  });
}

async function importOk(file: string): Promise<void> {
  expectOk(await project.cli(["db", "import", file, "--json"]));
}

beforeAll(async () => {
  project = await copyExample("it-dbsafe");
  await upForWebUrl(project);
  envId = `${project.name}-local`;
  await rootSql(
    project,
    "CREATE DATABASE otherdb; CREATE TABLE otherdb.t (v int); INSERT INTO otherdb.t VALUES (1),(2),(3);",
  );
  await importOk(await write("base.sql", dump(10, "base")));
}, 600_000);

afterAll(async () => {
  await discardProject(project);
});

describe("db import keeps the live data and stays in its database", { timeout: 240_000 }, () => {
  it("runs two imports one after the other, never both at once (the second waits on the lock)", async () => {
    const big = await write("big.sql", dump(600_000, "big"));
    const small = await write("small.sql", dump(5, "small"));
    const first = startImport(big);
    // The second starts once the first holds the environment's lock (and loads).
    const lockFile = path.join(project.home, "locks", `${envId}.lock`);
    for (let tries = 0; tries < 600 && !existsSync(lockFile); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(existsSync(lockFile)).toBe(true);
    const busy = await project.cli(["db", "import", small, "--json", "--lock-timeout", "0"]);
    expect(busy.exitCode, describeFailure(busy)).toBe(5);
    expect(busy.json).toMatchObject({ error: { code: "ENV_BUSY" } });
    expect(JSON.stringify(busy.json)).toContain("db import");
    const second = await project.cli(["db", "import", small, "--json"]);
    const firstResult = await first;
    expect(firstResult.exitCode, firstResult.stderr).toBe(0);
    expectOk(second);
    expect(await rootSql(project, "SELECT COUNT(*), MIN(label) FROM item;")).toBe("5\tsmall-0");
    expect(await otherDb()).toBe("1,2,3");
  });

  it("loads a mysqldump --databases --add-drop-database dump without dropping the live database", async () => {
    const before = await databases();
    const file = await write(
      "add-drop.sql",
      dump(3, "adddrop").replace(
        "DROP TABLE IF EXISTS",
        [
          "/*!40000 DROP DATABASE IF EXISTS `drupal`*/;",
          "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `drupal` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;",
          "USE `drupal`;",
          "DROP TABLE IF EXISTS",
        ].join("\n"),
      ),
    );
    await importOk(file);
    expect(await databases()).toEqual(before);
    expect(await rootSql(project, "SELECT COUNT(*) FROM item;")).toBe("3");
  });

  it("refuses empty input (file, .gz, comments only, stdin) with IMPORT_EMPTY and keeps the data", async () => {
    const before = await live();
    const inputs = [
      await write("empty.sql", ""),
      await write("empty.sql.gz", gzipSync(Buffer.alloc(0))),
      await write("comments.sql", "-- nothing but a comment\n/* and another */\n"),
    ];
    for (const file of inputs) {
      const result = await project.cli(["db", "import", file, "--json"]);
      expect(result.exitCode, describeFailure(result)).toBe(1);
      expect(result.json).toMatchObject({ ok: false, error: { code: "IMPORT_EMPTY" } });
    }
    const stdin = await project.cli(["db", "import", "-", "--json"], { input: "" });
    expect(stdin.exitCode).toBe(1);
    expect(stdin.json).toMatchObject({ error: { code: "IMPORT_EMPTY" } });
    expect(await live()).toBe(before);
    // Asked for on purpose, an empty dump replaces the data.
    const allowed = await project.cli(["db", "import", inputs[2] ?? "", "--allow-empty", "--json"]);
    expectOk(allowed);
    // The imported tables are gone. A page request since (the refresh reloads php-fpm and
    // the web container's probes run) may have made the one table the example site creates on a first
    // request to an empty database, as real sites do: empty, if it is there.
    const tables = (await rootSql(project, "SHOW TABLES;")).split("\n").filter(Boolean);
    expect(tables.filter((table) => table !== "greeting")).toEqual([]);
    if (tables.length > 0) {
      expect(await rootSql(project, "SELECT COUNT(*) FROM greeting;")).toBe("0");
    }
    await importOk(await write("base2.sql", dump(10, "base")));
  });

  it("refuses statements beyond the dump's own tables, listing them, and runs none", async () => {
    const before = await live();
    const hostile = [
      "UPDATE otherdb.t SET v = 99;",
      "\\u otherdb",
      "DROP DATABASE otherdb;",
      "CREATE USER evil@'%' IDENTIFIED BY 'evil';",
      "GRANT ALL PRIVILEGES ON *.* TO evil@'%';",
      "DROP DATABASE mysql;",
      "\\! id > /tmp/prodlike-pwned",
      "system id > /tmp/prodlike-pwned",
    ];
    for (const statement of hostile) {
      const file = await write("hostile.sql", dump(4, "hostile", [statement]));
      const result = await project.cli(["db", "import", file, "--json"]);
      expect(result.exitCode, `${statement}\n${describeFailure(result)}`).toBe(1);
      expect(result.json, statement).toMatchObject({ error: { code: "IMPORT_REFUSED" } });
      expect(JSON.stringify(result.json)).toContain("line ");
    }
    // What the patterns do not see, the server refuses: the load user reaches the staging
    // database alone (a multi-table UPDATE naming another database second).
    const sneaky = await write(
      "sneaky.sql",
      dump(4, "sneaky", ["UPDATE item, otherdb.t SET otherdb.t.v = 99;"]),
    );
    const denied = await project.cli(["db", "import", sneaky, "--json"]);
    expect(denied.exitCode, describeFailure(denied)).toBe(1);
    expect(denied.json).toMatchObject({ error: { code: "IMPORT_FAILED" } });
    expect(JSON.stringify(denied.json)).toContain("staging database alone");

    expect(await live()).toBe(before);
    expect(await otherDb()).toBe("1,2,3");
    expect(await databases()).toContain("mysql");
    expect(await rootSql(project, "SELECT COUNT(*) FROM mysql.user WHERE user = 'evil';")).toBe(
      "0",
    );
    const pwned = await shellIn(
      project,
      "db",
      "test -e /tmp/prodlike-pwned && echo yes || echo no",
    );
    expect(pwned.stdout.trim()).toBe("no");
  });

  it("gives the application's login its own database only", async () => {
    const grants = await shellIn(
      project,
      "db",
      'mariadb -N --protocol=tcp -h 127.0.0.1 -u"$MARIADB_USER" -p"$MARIADB_PASSWORD" -e "SHOW GRANTS"',
    );
    expectOk(grants);
    expect(grants.stdout).not.toContain("ON *.*` TO");
    expect(grants.stdout).not.toMatch(/GRANT ALL PRIVILEGES ON \*\.\*/);
    expect(grants.stdout).not.toContain("WITH GRANT OPTION");
    expect(grants.stdout).toMatch(/GRANT ALL PRIVILEGES ON `drupal`\.\*/);
    const other = await shellIn(
      project,
      "db",
      'mariadb --protocol=tcp -h 127.0.0.1 -u"$MARIADB_USER" -p"$MARIADB_PASSWORD" -e "SELECT * FROM otherdb.t"',
    );
    expect(other.exitCode).not.toBe(0);
  });

  it("cuts a failing statement to a few hundred printable characters in the hint", async () => {
    const file = await write(
      "long.sql",
      dump(2, "long", [`INSERT INTO \`item\` VALUES (1,'${"x".repeat(262_000)}'\u0007\u001b[2J;`]),
    );
    const result = await project.cli(["db", "import", file]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.length).toBeLessThan(4000);
    expect(result.stderr).not.toContain("\u001b");
    expect(result.stderr).not.toContain("\u0007");
  });

  it("cleans what a kill -9 mid-import left: the staging database and the lowered durability", async () => {
    const durability = async () =>
      rootSql(
        project,
        "SELECT @@GLOBAL.innodb_flush_log_at_trx_commit, @@GLOBAL.innodb_buffer_pool_size;",
      );
    const server = await durability();
    const big = await write("big-kill.sql", dump(600_000, "killed"));
    const before = await live();
    const importing = startImport(big);
    // Killed once its staging database exists and the load runs.
    for (let tries = 0; tries < 200; tries++) {
      const staging = await rootSql(
        project,
        "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE '%\\_\\_prodlike\\_%';",
      );
      if (staging !== "0" && (await durability()) !== server) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    importing.kill("SIGKILL");
    await importing;
    // The docker exec it started may still run for a moment in the container.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await durability()).not.toBe(server);
    expect(await live()).toBe(before);
    await importOk(await write("after-kill.sql", dump(7, "after")));
    expect(await durability()).toBe(server);
    expect(
      await rootSql(
        project,
        "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE '%\\_\\_prodlike\\_%';",
      ),
    ).toBe("0");
    expect(await rootSql(project, "SELECT COUNT(*) FROM item;")).toBe("7");
  });

  it("fails a fuzzed dump cleanly, or loads it: the live data changes only on success", async () => {
    const good = dump(200, "fuzz");
    let expected = await live();
    const random = (limit: number) => randomBytes(4).readUInt32BE() % limit;
    for (let round = 0; round < 12; round++) {
      const bytes = Buffer.from(round % 3 === 0 ? gzipSync(good) : good);
      let mutated: Buffer;
      if (round % 2 === 0) mutated = bytes.subarray(0, random(bytes.length));
      else {
        mutated = Buffer.from(bytes);
        for (let flip = 0; flip < 1 + random(4); flip++)
          mutated[random(mutated.length)] = random(256);
      }
      const file = await write(`fuzz-${round}.sql${round % 3 === 0 ? ".gz" : ""}`, mutated);
      const result = await project.cli(["db", "import", file, "--json"]);
      expect(result.stderr, `round ${round}`).not.toMatch(/^\s+at /m);
      expect(result.json?.ok !== undefined, `round ${round}: ${describeFailure(result)}`).toBe(
        true,
      );
      if (result.exitCode === 0) expected = await live();
      else {
        expect([1, 2], `round ${round}`).toContain(result.exitCode);
        expect(await live(), `round ${round}`).toBe(expected);
      }
    }
    expect(await otherDb()).toBe("1,2,3");
  });
});

describe("db export on a full disk", { timeout: 120_000 }, () => {
  it("says DISK_FULL, exit 1, no stack trace, when stdout is a full device", async () => {
    const result = await execa("sh", ["-c", `node "${CLI}" db export - --json > /dev/full`], {
      cwd: project.dir,
      reject: false,
      env: { PRODLIKE_HOME: project.home, NO_COLOR: "1", CI: "true" },
    });
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).not.toContain("Unhandled");
    expect(result.stderr).toContain("DISK_FULL");
  });

  // A small tmpfs made by .ci/run (root) for the developer user; elsewhere this is skipped
  // with its reason printed, never counted as passed.
  const smallDisk = process.env.PRODLIKE_TEST_SMALL_DISK;
  it.skipIf(!smallDisk)(
    "removes the partial file and says DISK_FULL when the disk fills up",
    async () => {
      await importOk(await write("fill.sql", dump(300_000, "fill")));
      const target = path.join(smallDisk ?? "", `export-${randomBytes(3).toString("hex")}.sql`);
      const result = await project.cli(["db", "export", target, "--no-gzip", "--json"]);
      expect(result.exitCode, describeFailure(result)).toBe(1);
      expect(result.json).toMatchObject({ ok: false, error: { code: "DISK_FULL", exitCode: 1 } });
      const left = (await readdir(smallDisk ?? "")).filter((name) =>
        name.startsWith(path.basename(target)),
      );
      expect(left).toEqual([]);
    },
  );
  if (!smallDisk) {
    process.stdout.write(
      "SKIPPED db export to a full disk: PRODLIKE_TEST_SMALL_DISK (a small writable tmpfs, made by .ci/run) is not set\n",
    );
  }
});

describe("destroy and the lock", { timeout: 600_000 }, () => {
  it("waits for an up in progress instead of pulling the network from under it", async () => {
    const upping = execa("node", [CLI, "up", "--name", "race", "--json"], {
      cwd: project.dir,
      reject: false,
      env: { PRODLIKE_HOME: project.home, NO_COLOR: "1", CI: "true" },
      stdin: "ignore",
    });
    // Once the up holds the lock, and a moment into its work (its network made).
    const lockFile = path.join(project.home, "locks", `${project.name}-race.lock`);
    for (let tries = 0; tries < 600 && !existsSync(lockFile); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(existsSync(lockFile)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const destroyed = await project.cli(["destroy", "--name", "race", "--keep-images", "--json"]);
    const up = await upping;
    expect(up.exitCode, up.stderr).toBe(0);
    expectOk(destroyed);
    const left = await resourcesOf(`${project.name}-race`);
    expect([...left.containers, ...left.volumes, ...left.networks]).toEqual([]);
  });

  it("finishes what a killed destroy left: a network, volumes and .prodlike/NAME", async () => {
    expectOk(await project.cli(["up", "--name", "half", "--json"]));
    const halfId = `${project.name}-half`;
    // What a destroy killed after removing the containers leaves behind.
    for (const container of await docker.listContainers({
      all: true,
      filters: envFilter(halfId),
    })) {
      await docker.getContainer(container.Id).remove({ force: true });
    }
    expect(existsSync(path.join(project.dir, ".prodlike", "half"))).toBe(true);
    const again = await project.cli(["destroy", "--name", "half", "--keep-images", "--json"]);
    expectOk(again);
    const left = await resourcesOf(halfId);
    expect([...left.containers, ...left.volumes, ...left.networks]).toEqual([]);
    expect(existsSync(path.join(project.dir, ".prodlike", "half"))).toBe(false);
    // No port stays reserved (machine-wide, with the engine) for an environment that is
    // gone, and its owner record went with it.
    const claims = await docker.listVolumes({
      filters: { label: [`dev.prodlike.claim.env=${halfId}`] },
    });
    expect((claims.Volumes ?? []).map((volume) => volume.Name)).toEqual([]);
    const owner = await docker.listVolumes({
      filters: { label: [`dev.prodlike.owner.env=${halfId}`] },
    });
    expect((owner.Volumes ?? []).map((volume) => volume.Name)).toEqual([]);
    const gone = await project.cli(["destroy", "--name", "half", "--json"]);
    expect(gone.exitCode).toBe(4);
  });

  it("does not wait on a lock whose pid now belongs to another process", async () => {
    const locks = path.join(project.home, "locks");
    await mkdir(locks, { recursive: true });
    // This test process is alive, but it did not start at tick 1 after boot: a reused pid.
    await writeFile(path.join(locks, `${envId}.lock`), `${process.pid}\n1\nup\n`);
    const result = await project.cli(["down", "--lock-timeout", "0", "--json"]);
    expectOk(result);
    expectOk(await project.cli(["up", "--json"]));
  });
});
