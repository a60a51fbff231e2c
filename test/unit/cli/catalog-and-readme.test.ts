import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { errorCatalog } from "../../../src/errors/catalog.js";
import { ExitCode } from "../../../src/errors/exit-codes.js";
import { VERSION } from "../../../src/version.js";

const readme = () => readFile(new URL("../../../README.md", import.meta.url), "utf8");

describe("README.md stays true to the code", () => {
  it("documents every error code with its exit code", async () => {
    const text = await readme();
    for (const [code, entry] of Object.entries(errorCatalog)) {
      expect(text, `README error table misses ${code}`).toMatch(
        new RegExp(`\\| \`${code}\` +\\| +${entry.exitCode} +\\|`),
      );
    }
  });

  it("documents every exit code", async () => {
    const text = await readme();
    for (const code of Object.values(ExitCode)) {
      expect(text, `README exit-code table misses ${code}`).toMatch(
        new RegExp(`^\\| ${code} +\\| `, "m"),
      );
    }
  });

  it("gives the two quick-start commands", async () => {
    const text = await readme();
    expect(text).toContain("npm ci && npx prodlike up --dir examples/drupal-basic");
    expect(text).toMatch(/^npm test\b/m);
  });
});

describe("version", () => {
  it("matches package.json", async () => {
    const pkg = JSON.parse(
      await readFile(new URL("../../../package.json", import.meta.url), "utf8"),
    ) as {
      version: string;
    };
    expect(VERSION).toBe(pkg.version);
  });
});
