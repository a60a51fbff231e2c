import { describe, expect, it } from "vitest";
import { createColour } from "../../../src/ui/colour.js";
import { redact, redactDeep } from "../../../src/ui/redact.js";

describe("redact", () => {
  it("replaces every occurrence of each secret", () => {
    expect(redact("pw=hunter22 again hunter22", ["hunter22"])).toBe("pw=******** again ********");
  });

  it("redacts inside nested documents", () => {
    const doc = { env: { DB_PASSWORD: "s3cret-value" }, list: ["s3cret-value"] };
    expect(JSON.stringify(redactDeep(doc, ["s3cret-value"]))).not.toContain("s3cret-value");
  });

  it("leaves very short values alone rather than blanking common words", () => {
    expect(redact("a db on db", ["db"])).toBe("a db on db");
  });
});

describe("createColour", () => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;

  it("colours a terminal", () => {
    expect(createColour(tty, {}).level).toBeGreaterThan(0);
  });

  it("respects NO_COLOR", () => {
    expect(createColour(tty, { NO_COLOR: "1" }).level).toBe(0);
    expect(createColour(tty, { NO_COLOR: "1", FORCE_COLOR: "1" }).level).toBe(0);
  });

  it("does not colour a pipe unless forced", () => {
    expect(createColour(pipe, {}).level).toBe(0);
    expect(createColour(pipe, { FORCE_COLOR: "1" }).level).toBe(1);
  });
});
