import { readFile } from "node:fs/promises";
import { describe, expect, it, vi } from "vitest";
import { main } from "../../../src/cli/main.js";
import { errorCatalog } from "../../../src/errors/catalog.js";
import { ExitCode } from "../../../src/errors/exit-codes.js";
import { DIFF_FIELDS } from "../../../src/parity/compare.js";
import { VERSION } from "../../../src/version.js";

const readme = () => readFile(new URL("../../../README.md", import.meta.url), "utf8");

describe("README.md stays true to the code", () => {
  it("lists every field a parity policy rule can name", async () => {
    const text = await readme();
    const listed =
      /one\s+of:([^.]+)\./.exec(text.slice(text.indexOf("A rule matches by")))?.[1] ?? "";
    expect([...listed.matchAll(/`([a-z-]+)`/g)].map((match) => match[1])).toEqual([...DIFF_FIELDS]);
  });

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

  it("documents every command the CLI has", async () => {
    const text = await readme();
    const help = async (argv: string[]) => {
      let out = "";
      const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
        out += String(chunk);
        return true;
      });
      try {
        await main(argv);
      } finally {
        write.mockRestore();
      }
      return [...out.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)]
        .map((match) => match[1] ?? "")
        .filter((name) => name !== "help");
    };
    const commands = [
      ...(await help(["--help"])).filter((name) => !["db", "snapshot", "images"].includes(name)),
      ...(await help(["db", "--help"])).map((name) => `db ${name}`),
      ...(await help(["snapshot", "--help"])).map((name) => `snapshot ${name}`),
      ...(await help(["images", "--help"])).map((name) => `images ${name}`),
    ];
    expect(commands.length).toBeGreaterThan(15);
    for (const command of commands) {
      expect(text, `README commands table misses prodlike ${command}`).toContain(
        `\`prodlike ${command}`,
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
