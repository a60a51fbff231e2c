import { mkdtemp, readdir, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Writable } from "node:stream";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { exportDump } from "../../../src/db/export-dump.js";
import type { LocalDatabase } from "../../../src/db/local-database.js";
import type { ProdlikeError } from "../../../src/errors/prodlike-error.js";
import { SilentProgress } from "../../../src/ui/plain-progress.js";

// `db export` on a stand-in database that writes a dump: the file appears only once
// complete (gzip by default), and a failed dump leaves no file that looks whole.

function database(dump: string, exitCode = 0): LocalDatabase {
  return {
    name: async () => "shop",
    dump: async (out: Writable) => {
      out.write(dump);
      return { exitCode, stdout: "", stderr: exitCode === 0 ? "" : "mariadb-dump: Got error 2013" };
    },
  } as unknown as LocalDatabase;
}

async function folder(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), "prodlike-export-"));
}

describe("exportDump", () => {
  it("writes a gzip dump under its name once complete, and counts what reached the file", async () => {
    const dir = await folder();
    const file = path.join(dir, "shop.sql.gz");
    const sql = "CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\n";
    const report = await exportDump(database(sql), { file, gzip: true }, new SilentProgress());
    expect(gunzipSync(await readFile(file)).toString()).toBe(sql);
    expect(report).toMatchObject({ database: "shop", file, gzip: true });
    expect(report.bytes).toBe((await readFile(file)).length);
    expect(await readdir(dir)).toEqual(["shop.sql.gz"]);
  });

  it("writes plain SQL with gzip off", async () => {
    const dir = await folder();
    const file = path.join(dir, "shop.sql");
    await exportDump(database("SELECT 1;\n"), { file, gzip: false }, new SilentProgress());
    expect(await readFile(file, "utf8")).toBe("SELECT 1;\n");
  });

  it("leaves no file when the dump fails, and says what the tool said", async () => {
    const dir = await folder();
    const file = path.join(dir, "shop.sql.gz");
    const error = (await exportDump(
      database("CREATE TA", 2),
      { file, gzip: true },
      new SilentProgress(),
    ).catch((caught: unknown) => caught)) as ProdlikeError;
    expect(error.code).toBe("COMMAND_FAILED");
    expect(error.hint).toContain("Got error 2013");
    expect(await readdir(dir)).toEqual([]);
  });

  it("reports a target it cannot write as a clear error, not a stack trace", async () => {
    const error = (await exportDump(
      database("SELECT 1;\n"),
      { file: "/nonexistent-folder/shop.sql", gzip: false },
      new SilentProgress(),
    ).catch((caught: unknown) => caught)) as ProdlikeError;
    expect(error.name).toBe("ProdlikeError");
    expect(error.code).toBe("IO_FAILED");
    expect(error.message).toContain("/nonexistent-folder/shop.sql");
    expect(error.hint).toContain("folder does not exist");
  });
});
