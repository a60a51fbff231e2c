import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { DumpTransform } from "../../../src/db/dump-transform.js";
import { StatementGuard } from "../../../src/db/statement-guard.js";
import { printable } from "../../../src/errors/printable.js";

async function transform(sql: string): Promise<{ out: string; fixer: DumpTransform }> {
  const fixer = new DumpTransform();
  let out = "";
  for await (const chunk of Readable.from([Buffer.from(sql)]).pipe(fixer)) out += String(chunk);
  return { out, fixer };
}

describe("StatementGuard", () => {
  it("lets a --databases --add-drop-database dump's own database lines go without running them", () => {
    const guard = new StatementGuard();
    expect(guard.check("/*!40000 DROP DATABASE IF EXISTS `drupal`*/;")).toEqual({
      kind: "own-database",
    });
    expect(
      guard.check(
        "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `drupal` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;",
      ),
    ).toEqual({ kind: "own-database" });
    expect(guard.check("USE `drupal`;")).toEqual({ kind: "own-database" });
    expect(guard.check("CREATE TABLE `node` (")).toEqual({ kind: "keep" });
    expect(guard.check("INSERT INTO `drupal`.`node` VALUES (1);")).toEqual({ kind: "keep" });
  });

  it("refuses what reaches beyond the dump's own tables", () => {
    const refused = (line: string) => {
      const guard = new StatementGuard();
      guard.check("USE `drupal`;");
      return guard.check(line);
    };
    for (const line of [
      "DROP DATABASE otherdb;",
      "DROP DATABASE mysql;",
      "USE otherdb;",
      "\\u otherdb",
      "\\! id > /tmp/x",
      "system id",
      "source /etc/passwd",
      "CREATE USER evil@'%' IDENTIFIED BY 'x';",
      "GRANT ALL PRIVILEGES ON *.* TO evil@'%';",
      "/*!80000 REVOKE ALL ON *.* FROM app */;",
      "SET PASSWORD FOR root@localhost = PASSWORD('x');",
      "SET GLOBAL general_log = 1;",
      "UPDATE otherdb.t SET x = 1;",
      "UPDATE `otherdb`.`t` SET x = 1;",
      "INSERT INTO `mysql`.`user` VALUES (1);",
      "DELETE FROM mysql.global_priv;",
      "FLUSH PRIVILEGES;",
      "INSTALL SONAME 'ha_connect';",
      "SELECT * FROM t INTO OUTFILE '/tmp/x';",
      "LOAD DATA INFILE '/etc/passwd' INTO TABLE t;",
    ]) {
      expect(refused(line), line).toMatchObject({ kind: "refuse" });
    }
  });

  it("never takes a system database for the dump's own", () => {
    expect(new StatementGuard().check("USE mysql;")).toMatchObject({ kind: "refuse" });
  });

  it("drops MySQL's replication settings a database user may not run", () => {
    const guard = new StatementGuard();
    expect(guard.check("SET @@SESSION.SQL_LOG_BIN= 0;")).toEqual({ kind: "server-setting" });
    expect(guard.check("SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ 'a:1-9';")).toEqual({
      kind: "server-setting",
    });
    expect(
      guard.check("/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;"),
    ).toEqual({ kind: "keep" });
  });
});

describe("DumpTransform with the guard", () => {
  it("keeps refused statements (and their continuation lines) from the server and lists them by line", async () => {
    const { out, fixer } = await transform(
      [
        "CREATE TABLE `t` (`id` int);",
        "GRANT ALL PRIVILEGES",
        "  ON *.* TO evil@'%';",
        "INSERT INTO `t` VALUES (1);",
        "\\! id > /tmp/x",
        "INSERT INTO `otherdb`.`t` VALUES",
        "(1),",
        "(2);",
        "INSERT INTO `t` VALUES (2);",
        "",
      ].join("\n"),
    );
    expect(out).not.toMatch(/GRANT|ON \*\.\*|\\!|otherdb|\(1\),/);
    expect(out).toContain("INSERT INTO `t` VALUES (1);");
    expect(out).toContain("INSERT INTO `t` VALUES (2);");
    expect(fixer.refused.map((statement) => statement.line)).toEqual([2, 5, 6]);
    expect(fixer.refused[0]?.reason).toBe("privilege statement");
    expect(fixer.refused[2]?.reason).toBe("names database `otherdb`");
  });

  it("refuses a DROP DATABASE the dump never confirms as its own (at its end), not one it does", async () => {
    const alone = await transform("DROP DATABASE otherdb;\nCREATE TABLE t (id int);\n");
    expect(alone.out).not.toContain("otherdb");
    expect(alone.fixer.refused).toEqual([
      { line: 1, reason: "drops database `otherdb`", text: "DROP DATABASE otherdb;" },
    ]);
    const addDrop = await transform(
      "/*!40000 DROP DATABASE IF EXISTS `shop`*/;\nCREATE DATABASE `shop`;\nUSE `shop`;\nCREATE TABLE t (id int);\n",
    );
    expect(addDrop.fixer.refused).toEqual([]);
    expect(addDrop.fixer.fixes.databaseStatements).toBe(3);
  });

  it("counts the bytes it saw: an empty or comments-only input is told apart", async () => {
    expect((await transform("")).fixer.shape.bytes).toBe(0);
    expect((await transform("-- nothing here\n")).fixer.shape.bytes).toBeGreaterThan(0);
  });

  it("judges a multi-megabyte INSERT by its head only", async () => {
    const rows = Array.from({ length: 200_000 }, (_, index) => `(${index})`).join(",");
    const started = performance.now();
    const { fixer } = await transform(
      `CREATE TABLE t (id int);\nINSERT INTO \`t\` VALUES ${rows};\n`,
    );
    expect(fixer.refused).toEqual([]);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe("printable", () => {
  it("cuts long lines and shows control bytes instead of sending them to the terminal", () => {
    const shown = printable(`ERROR 1064: near '${"x".repeat(1000)}'\n\u001b[2Jbell\u0007`, 100);
    expect(shown).toContain("… (");
    expect(shown.split("\n")[0]?.length).toBeLessThan(140);
    expect(shown).toContain("\\x1b[2Jbell\\x07");
    expect(shown).not.toContain("\u001b");
  });
});
