import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { explainImportError, MaybeGunzip } from "../../../src/db/dump-load.js";
import {
  DataShard,
  DumpTransform,
  describeFixes,
  IMPORT_EPILOGUE,
  IMPORT_PROLOGUE,
} from "../../../src/db/dump-transform.js";
import { swapScript } from "../../../src/db/local-database.js";

async function run(dump: string, chunkSize = 7): Promise<{ out: string; fixer: DumpTransform }> {
  const chunks: string[] = [];
  for (let at = 0; at < dump.length; at += chunkSize) chunks.push(dump.slice(at, at + chunkSize));
  const fixer = new DumpTransform();
  const out = await text(Readable.from(chunks).pipe(fixer));
  return { out, fixer };
}

const MARIADB_DUMP = [
  "/*M!999999\\- enable the sandbox mode */ ",
  "-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB",
  "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `prod`;",
  "USE `prod`;",
  "CREATE TABLE `t` (`id` int) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci;",
  "INSERT INTO `t` VALUES (1),(2);",
  "/*!50003 DROP PROCEDURE IF EXISTS `p` */;",
  "DELIMITER ;;",
  "/*!50003 CREATE*/ /*!50017 DEFINER=`prod`@`%`*/ /*!50003 TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW BEGIN",
  "  SET @x = 1;",
  "END */;;",
  "DELIMITER ;",
  "CREATE ALGORITHM=UNDEFINED DEFINER=`prod`@`10.0.%` SQL SECURITY DEFINER VIEW `v` AS select 1;",
  "-- Dump completed on 2026-11-20 10:00:00",
  "",
].join("\n");

describe("DumpTransform", () => {
  it("fixes what the local server rejects, across any chunk boundaries", async () => {
    for (const size of [1, 7, 4096]) {
      const { out, fixer } = await run(MARIADB_DUMP, size);
      expect(out.startsWith(IMPORT_PROLOGUE)).toBe(true);
      expect(out.endsWith(IMPORT_EPILOGUE)).toBe(true);
      expect(out).not.toContain("sandbox mode");
      expect(out).not.toMatch(/CREATE DATABASE|USE `prod`/);
      expect(out).toContain("COLLATE=utf8mb4_unicode_ci;");
      expect(out).toContain("INSERT INTO `t` VALUES (1),(2);");
      expect(out).toContain("CREATE ALGORITHM=UNDEFINED  SQL SECURITY DEFINER VIEW");
      expect(fixer.fixes).toEqual({
        sandboxLine: 1,
        definers: 2,
        collations: 1,
        databaseStatements: 2,
        serverSettings: 0,
      });
      expect(fixer.truncated).toBe(false);
    }
  });

  it("never rewrites the rows of a one-row-per-line INSERT", async () => {
    const dump = [
      "-- MariaDB dump 10.19",
      "INSERT INTO `t` VALUES",
      "('DEFINER=`a`@`b` utf8mb4_0900_ai_ci'),",
      "('USE `x`;');",
      "CREATE TABLE `u` (`a` int) COLLATE=utf8mb4_0900_ai_ci;",
      "-- Dump completed on x",
    ].join("\n");
    const { out, fixer } = await run(dump);
    expect(out).toContain("('DEFINER=`a`@`b` utf8mb4_0900_ai_ci'),\n('USE `x`;');");
    expect(fixer.fixes).toMatchObject({
      definers: 0,
      collations: 1,
      databaseStatements: 0,
      serverSettings: 0,
    });
  });

  it("holds triggers and routines back for the live database", async () => {
    const { out, fixer } = await run(MARIADB_DUMP);
    expect(out).not.toContain("TRIGGER");
    expect(out).not.toContain("DROP PROCEDURE");
    expect(fixer.deferred).toEqual([
      "/*!50003 DROP PROCEDURE IF EXISTS `p` */;",
      [
        "DELIMITER ;;",
        "/*!50003 CREATE*/ /*!50017 */ /*!50003 TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW BEGIN",
        "  SET @x = 1;",
        "END */;;",
        "DELIMITER ;",
      ].join("\n"),
    ]);
  });

  it("calls a dump tool's output without its completion line truncated", async () => {
    const cut = MARIADB_DUMP.split("\n").slice(0, 6).join("\n");
    expect((await run(cut)).fixer.truncated).toBe(true);
    // Hand-written SQL has no trailer to miss.
    expect((await run("CREATE TABLE a (id int);\n")).fixer.truncated).toBe(false);
  });

  it("says what it fixed", () => {
    expect(
      describeFixes({
        sandboxLine: 1,
        definers: 2,
        collations: 0,
        databaseStatements: 0,
        serverSettings: 0,
      }),
    ).toEqual(["dropped the MariaDB sandbox-mode first line", "removed 2 DEFINER clause(s)"]);
  });
});

describe("DataShard", () => {
  it("deals the rows out, each connection with the session settings and none of the schema", async () => {
    const dump = [
      "/*!40101 SET NAMES utf8mb4 */;",
      "CREATE TABLE `t` (`id` int);",
      "INSERT INTO `t` VALUES (1);",
      "INSERT INTO `t` VALUES (2);",
      "INSERT INTO `t` VALUES",
      "(3),",
      "(4);",
      "DELIMITER ;;",
      "CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW BEGIN",
      "SET NEW.id = 1;",
      "END ;;",
      "DELIMITER ;",
      "",
    ].join("\n");
    const shard = async (index: number) =>
      (await text(Readable.from([dump]).pipe(new DataShard(index, 2))))
        .split("\n")
        .filter((line) => line.trim() !== "" && !IMPORT_PROLOGUE.includes(line));
    expect(await shard(0)).toEqual([
      "/*!40101 SET NAMES utf8mb4 */;",
      "INSERT INTO `t` VALUES (1);",
      "INSERT INTO `t` VALUES",
      "(3),",
      "(4);",
    ]);
    expect(await shard(1)).toEqual([
      "/*!40101 SET NAMES utf8mb4 */;",
      "INSERT INTO `t` VALUES (2);",
    ]);
  });

  it("keeps the schema pass free of rows but counting lines as the dump has them", async () => {
    const fixer = new DumpTransform({ keepData: false });
    const out = await text(Readable.from([MARIADB_DUMP]).pipe(fixer));
    expect(out).not.toContain("INSERT INTO");
    expect(out).toContain("CREATE TABLE `t`");
    const full = await text(Readable.from([MARIADB_DUMP]).pipe(new DumpTransform()));
    expect(out.split("\n").length).toBe(full.split("\n").length);
  });
});

describe("MaybeGunzip", () => {
  it("gunzips gzip input and passes plain SQL through", async () => {
    const sql = "SELECT 1;\n".repeat(1000);
    expect(await text(Readable.from([gzipSync(sql)]).pipe(new MaybeGunzip()))).toBe(sql);
    expect(await text(Readable.from([Buffer.from(sql)]).pipe(new MaybeGunzip()))).toBe(sql);
  });

  it("fails on a truncated gzip stream", async () => {
    const cut = gzipSync("SELECT 1;\n".repeat(10000)).subarray(0, 200);
    await expect(text(Readable.from([cut]).pipe(new MaybeGunzip()))).rejects.toThrow(
      /unexpected end of file/,
    );
  });
});

describe("explainImportError", () => {
  it("names the dump line of a syntax error, not the client's", () => {
    const stderr =
      "ERROR 1064 (42000) at line 9: You have an error in your SQL syntax; near '' at line 1";
    const prologueLines = IMPORT_PROLOGUE.split("\n").length - 1;
    expect(explainImportError(stderr)).toMatch(
      new RegExp(`^SQL syntax error at line ${9 - prologueLines} of the dump`),
    );
  });

  it("explains the known incompatibilities", () => {
    expect(explainImportError("ERROR 1227 (42000) at line 3: Access denied")).toMatch(/DEFINER/);
    expect(explainImportError("ERROR 1273 (HY000): Unknown collation: 'x'")).toMatch(/collation/);
    expect(explainImportError("ERROR 2026 (HY000): TLS/SSL error")).toMatch(/TLS/);
  });
});

describe("swapScript", () => {
  it("moves base tables in one RENAME and drops the leftovers", () => {
    const script = swapScript("drupal", "drupal__stage", "drupal__retired");
    expect(script).toContain("table_schema = 'drupal' AND table_type = 'BASE TABLE'");
    expect(script).toContain("CONCAT('RENAME TABLE ', @swap)");
    expect(script.indexOf("EXECUTE swap")).toBeLessThan(
      script.indexOf("DROP DATABASE `drupal__retired`;"),
    );
    expect(script.trim().endsWith("DROP DATABASE `drupal__stage`;")).toBe(true);
  });
});

describe("bytes through the dump transforms", () => {
  it("keeps multi-byte characters split across chunks and bytes that are not UTF-8", async () => {
    const row = Buffer.concat([
      Buffer.from("INSERT INTO `t` VALUES (1,'caf\u00e9 \u2615',_binary '"),
      Buffer.from([0xff, 0xfe, 0x00, 0x8b]),
      Buffer.from("');\n"),
    ]);
    const dump = Buffer.concat([Buffer.from("-- MariaDB dump 10.19\n"), row]);
    // One byte per chunk: every character is split.
    const chunks = [...dump].map((byte) => Buffer.from([byte]));
    for (const transform of [new DumpTransform(), new DataShard(0, 1)]) {
      const out = Buffer.concat(await Readable.from(chunks).pipe(transform).toArray());
      expect(out.includes(row)).toBe(true);
    }
  });
});

describe("DumpTransform on long lines", () => {
  // 50 statements of 1 MB on one line, as a dump with extended inserts and no newlines.
  const row = `(1,'${"x".repeat(1024 * 1024)}')`;
  const oneLine = `${Array.from({ length: 50 }, () => `INSERT INTO \`t\` VALUES ${row};`).join("")}\n`;

  it("streams a row line as it comes: output before the line ends, bytes unchanged", async () => {
    const fixer = new DumpTransform();
    const out: Buffer[] = [];
    fixer.on("data", (chunk: Buffer) => out.push(chunk));
    const bytes = Buffer.from(oneLine, "latin1");
    const firstHalf = bytes.subarray(0, bytes.length / 2);
    for (let at = 0; at < firstHalf.length; at += 65536) {
      fixer.write(firstHalf.subarray(at, at + 65536));
    }
    await new Promise((resolve) => setImmediate(resolve));
    const before = Buffer.concat(out).length - IMPORT_PROLOGUE.length;
    // Nothing held back but the head read to judge it: bounded, whatever the line's length.
    expect(before).toBe(firstHalf.length);
    fixer.end(bytes.subarray(firstHalf.length));
    await new Promise((resolve) => fixer.on("end", resolve));
    expect(Buffer.concat(out).toString("latin1")).toBe(
      `${IMPORT_PROLOGUE}${oneLine}${IMPORT_EPILOGUE}`,
    );
    expect(fixer.shape.bytes).toBe(bytes.length);
  });

  it("still judges a long row line by its head, and drops it whole when refused", async () => {
    const { out, fixer } = await run(
      `INSERT INTO mysql.user VALUES ${row};\nINSERT INTO \`t\` VALUES (2);\n`,
      65536,
    );
    expect(fixer.refused).toHaveLength(1);
    expect(fixer.refused[0]?.line).toBe(1);
    expect(out).toBe(`${IMPORT_PROLOGUE}\nINSERT INTO \`t\` VALUES (2);\n${IMPORT_EPILOGUE}`);
  });

  it("follows a multi-line INSERT whose first line is long", async () => {
    const dump = `INSERT INTO \`t\` VALUES ${row},\n(2,'b');\nCREATE TABLE \`u\` (\`id\` int) COLLATE=utf8mb4_0900_ai_ci;\n`;
    const { out, fixer } = await run(dump, 65536);
    expect(out).toContain("(2,'b');\nCREATE TABLE `u` (`id` int) COLLATE=utf8mb4_unicode_ci;\n");
    expect(fixer.fixes.collations).toBe(1);
  });

  it("refuses a line past the bound that is not a row statement (no line ends: binary input)", async () => {
    const zeros = Readable.from(
      (function* () {
        for (let sent = 0; sent < 20 * 1024 * 1024; sent += 65536) yield Buffer.alloc(65536);
      })(),
    );
    await expect(text(zeros.pipe(new DumpTransform()))).rejects.toMatchObject({
      code: "IMPORT_FAILED",
      message: expect.stringMatching(/Line 1 of the dump is longer than 16 MB/),
    });
  });

  it("deals a long row line to one connection of a parallel load", async () => {
    const dump = `SET NAMES utf8mb4;\nINSERT INTO \`t\` VALUES ${row};\nINSERT INTO \`t\` VALUES (2);\n`;
    const shards = await Promise.all(
      [0, 1].map((index) =>
        text(Readable.from([Buffer.from(dump, "latin1")]).pipe(new DataShard(index, 2))),
      ),
    );
    expect(shards[0]).toContain(row);
    expect(shards[0]).not.toContain("VALUES (2)");
    expect(shards[1]).not.toContain(row);
    expect(shards[1]).toContain("INSERT INTO `t` VALUES (2);");
    expect(shards[1]).toContain("SET NAMES utf8mb4;");
  });
});
