import { readdir, readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { commandProgram } from "../../../src/cli/main.js";
import { commandsReference, errorsReference } from "../../../src/cli/reference-docs.js";
import { configurationReference } from "../../../src/config/config-docs.js";
import { RANK } from "../architecture/ranks.js";

// docs/ stays true to the code: the generated reference pages are what the code's own
// tables say today (run `npm run docs` after changing a command, a flag, an error or a
// field), and docs/architecture.md names every folder of src/ with its rank.

const read = (file: string) => readFile(new URL(`../../../${file}`, import.meta.url), "utf8");

describe("docs/reference", () => {
  it("lists every command and flag the CLI has (npm run docs)", async () => {
    expect(await read("docs/reference/commands.md")).toBe(
      commandsReference(commandProgram(".").program),
    );
  });

  it("lists every exit code and error code (npm run docs)", async () => {
    expect(await read("docs/reference/errors.md")).toBe(errorsReference());
  });

  it("lists every prodlike.yaml field (npm run docs)", async () => {
    const schema = JSON.parse(await read("schema/prodlike.schema.json")) as object;
    expect(await read("docs/reference/configuration.md")).toBe(configurationReference(schema));
  });
});

describe("docs/architecture.md", () => {
  it("names every folder of src/ in its layer table, with its rank", async () => {
    const text = await read("docs/architecture.md");
    const rows = [...text.matchAll(/^\| (\d+) \| ([^|]+) \|/gm)].map((match) => ({
      rank: Number(match[1]),
      folders: [...(match[2] ?? "").matchAll(/`([a-z.-]+)`/g)].map((found) => found[1]),
    }));
    const src = (await readdir(new URL("../../../src", import.meta.url), { withFileTypes: true }))
      .map((entry) => entry.name)
      .filter((name) => name !== "version.ts");
    for (const folder of src) {
      const row = rows.find((candidate) => candidate.folders.includes(folder));
      expect(row, `docs/architecture.md's layer table misses src/${folder}`).toBeDefined();
      expect(row?.rank, `src/${folder}'s rank`).toBe(RANK[folder]);
    }
  });
});
