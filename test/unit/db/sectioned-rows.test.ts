import { Readable, Writable } from "node:stream";
import { text } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { DataShard, IMPORT_EPILOGUE, IMPORT_PROLOGUE } from "../../../src/db/dump-transform.js";
import { SectionSplitter, StatementDealer } from "../../../src/db/sectioned-rows.js";

// A pull's stream split in one pass: the schema first, then the rows dealt out whole to
// each connection, on the bytes (never decoded), at any chunk size.

const DUMP = [
  "-- MariaDB dump 10.19",
  "/*!40101 SET NAMES utf8mb4 */;",
  "INSERT INTO `t` VALUES (1);",
  "INSERT INTO `t` VALUES (2);",
  "INSERT INTO `t` VALUES",
  "(3),",
  "(4);",
  "DELIMITER ;;",
  "SET @in_a_trigger = 1;",
  "DELIMITER ;",
  "SET time_zone = '+00:00';",
  "INSERT INTO `u` VALUES ('a;'),",
  "('b') ; ",
  "INSERT INTO `u` VALUES ('c');",
  "-- Dump completed on y",
  "",
].join("\n");

function chunked(input: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < input.length; at += size) chunks.push(input.subarray(at, at + size));
  return chunks;
}

/** Deals `input` in chunks of `size` to `connections`; each output's bytes. */
async function deal(input: Buffer, size: number, connections: number): Promise<Buffer[]> {
  const dealer = new StatementDealer(connections);
  const outputs = dealer.outputs.map(async (output) => Buffer.concat(await output.toArray()));
  await pipeline(
    Readable.from(chunked(input, size)),
    new Writable({
      write: (chunk: Buffer, _encoding, done) => dealer.write(chunk, () => done()),
      final: (done) => {
        dealer.end();
        done();
      },
    }),
  );
  return Promise.all(outputs);
}

const body = (output: Buffer) =>
  output
    .toString("latin1")
    .slice(IMPORT_PROLOGUE.length, -IMPORT_EPILOGUE.length || undefined)
    .split("\n")
    .filter((line) => line !== "");

describe("StatementDealer", () => {
  it("deals each INSERT whole to the next connection, the settings to all, at any chunk size", async () => {
    for (const size of [1, 2, 7, 64, 65536]) {
      const [first, second] = await deal(Buffer.from(DUMP), size, 2);
      expect(first?.toString("latin1").startsWith(IMPORT_PROLOGUE)).toBe(true);
      expect(body(first ?? Buffer.alloc(0))).toEqual([
        "/*!40101 SET NAMES utf8mb4 */;",
        "INSERT INTO `t` VALUES (1);",
        "INSERT INTO `t` VALUES",
        "(3),",
        "(4);",
        "SET time_zone = '+00:00';",
        "INSERT INTO `u` VALUES ('c');",
      ]);
      expect(body(second ?? Buffer.alloc(0))).toEqual([
        "/*!40101 SET NAMES utf8mb4 */;",
        "INSERT INTO `t` VALUES (2);",
        "SET time_zone = '+00:00';",
        "INSERT INTO `u` VALUES ('a;'),",
        "('b') ; ",
      ]);
    }
  });

  it("gives the same statements as one DataShard per connection reading everything", async () => {
    const dealt = await deal(Buffer.from(DUMP), 5, 3);
    for (const [index, output] of dealt.entries()) {
      const shard = await text(Readable.from([DUMP]).pipe(new DataShard(index, 3)));
      const lines = (value: string) => value.split("\n").filter((line) => line.trim() !== "");
      expect(lines(output.toString("latin1"))).toEqual(lines(shard));
    }
  });

  it("passes the bytes through unchanged: binary rows, UTF-8 split across chunks", async () => {
    const row = Buffer.concat([
      Buffer.from("INSERT INTO `t` VALUES (1,'caf\u00e9 \u2615',_binary '"),
      Buffer.from([0xff, 0xfe, 0x00, 0x8b, 0x0d]),
      Buffer.from("');\n"),
    ]);
    const [only] = await deal(row, 1, 1);
    expect(only?.includes(row)).toBe(true);
  });

  it("deals a last line that has no newline", async () => {
    const [first, second] = await deal(
      Buffer.from("INSERT INTO `t` VALUES (1);\nINSERT INTO `t` VALUES (2);"),
      3,
      2,
    );
    expect(body(first ?? Buffer.alloc(0))).toEqual(["INSERT INTO `t` VALUES (1);"]);
    expect(second?.toString("latin1")).toContain("INSERT INTO `t` VALUES (2);");
  });

  it("waits for a slow connection (backpressure) without losing or reordering bytes", async () => {
    // Six megabytes: more than the outputs buffer (one megabyte each).
    const rows = Array.from(
      { length: 6000 },
      (_, index) => `INSERT INTO \`t\` VALUES (${index},'${"x".repeat(900)}');`,
    );
    const input = Buffer.from(`${rows.join("\n")}\n`);
    const dealer = new StatementDealer(2);
    let written = 0;
    // Nobody reads the outputs yet: the dealer must stop asking for more.
    const feed = (async () => {
      for (const chunk of chunked(input, 65536)) {
        await new Promise<void>((resolve) => dealer.write(chunk, resolve));
        written += chunk.length;
      }
      dealer.end();
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(written).toBeLessThan(input.length);
    const outputs = await Promise.all(
      dealer.outputs.map(async (output) => Buffer.concat(await output.toArray())),
    );
    await feed;
    const got = outputs.flatMap((output) => body(output));
    expect(got.sort()).toEqual([...rows].sort());
    expect(body(outputs[0] ?? Buffer.alloc(0))).toEqual(rows.filter((_, index) => index % 2 === 0));
  });
});

describe("SectionSplitter", () => {
  const schema = "-- MariaDB dump 10.19\nCREATE TABLE `t` (`id` int);\n-- Dump completed on x\n";
  const rows = "-- MariaDB dump 10.19\nINSERT INTO `t` VALUES (1);\n-- Dump completed on y\n";

  async function split(input: string, chunkSize: number) {
    const splitter = new SectionSplitter();
    let schemaDone = false;
    const schemaText = text(splitter.schema).then((value) => {
      schemaDone = true;
      return value;
    });
    splitter.release(schemaText.then(() => undefined));
    const rowsText = text(splitter.rows[0] ?? Readable.from([])).then((value) => ({
      value,
      schemaDoneFirst: schemaDone,
    }));
    const chunks: Buffer[] = [];
    const bytes = Buffer.from(input);
    for (let at = 0; at < bytes.length; at += chunkSize)
      chunks.push(bytes.subarray(at, at + chunkSize));
    await pipeline(Readable.from(chunks), splitter);
    return { schema: await schemaText, rows: await rowsText, truncated: splitter.truncated };
  }

  it("sends the schema first and holds the rows until the schema is in, at any chunk size", async () => {
    for (const size of [1, 5, 64, 4096]) {
      const result = await split(`${schema}-- prodlike: rows follow\n${rows}`, size);
      expect(result.schema).toBe(schema);
      // Connection 1 of 1: the session prologue and the INSERTs; comments go nowhere.
      expect(result.rows.value).toBe(
        `${IMPORT_PROLOGUE}INSERT INTO \`t\` VALUES (1);\n${IMPORT_EPILOGUE}`,
      );
      expect(result.rows.schemaDoneFirst).toBe(true);
      expect(result.truncated).toBe(false);
    }
  });

  it("knows a rows dump cut off before its trailer", async () => {
    const result = await split(`${schema}-- prodlike: rows follow\n${rows.slice(0, 40)}`, 7);
    expect(result.truncated).toBe(true);
    const noRows = await split(schema, 7);
    expect(noRows.truncated).toBe(true);
  });
});
