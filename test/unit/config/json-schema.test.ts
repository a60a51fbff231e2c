import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { jsonSchemaText } from "../../../src/config/json-schema.js";

describe("schema/prodlike.schema.json", () => {
  it("is up to date with the zod schema (run `npm run schema` after changing it)", async () => {
    const committed = await readFile(
      new URL("../../../schema/prodlike.schema.json", import.meta.url),
      "utf8",
    );
    expect(committed).toBe(jsonSchemaText());
  });

  it("rejects unknown top-level keys, as the loader does", () => {
    const schema = JSON.parse(jsonSchemaText()) as {
      additionalProperties?: boolean;
      properties: Record<string, unknown>;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(["name", "preset", "docroot", "ports", "database", "env", "services"]),
    );
  });
});
