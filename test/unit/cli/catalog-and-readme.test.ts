import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { main } from "../../../src/cli/main.js";
import { DIFF_FIELDS } from "../../../src/parity/compare.js";
import { VERSION } from "../../../src/version.js";

const read = (file: string) => readFile(new URL(`../../../${file}`, import.meta.url), "utf8");

describe("the docs stay true to the code", () => {
  it("list every field a parity policy rule can name", async () => {
    const text = await read("docs/mirror-and-parity.md");
    const listed =
      /one\s+of:([^.]+)\./.exec(text.slice(text.indexOf("A rule matches by")))?.[1] ?? "";
    expect([...listed.matchAll(/`([a-z-]+)`/g)].map((match) => match[1])).toEqual([...DIFF_FIELDS]);
  });

  it("describe every command the CLI has in docs/commands.md", async () => {
    const text = await read("docs/commands.md");
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
    const groups = ["db", "snapshot", "images"];
    const commands = [
      ...(await help(["--help"])).filter((name) => !groups.includes(name)),
      ...(await help(["db", "--help"])).map((name) => `db ${name}`),
      ...(await help(["snapshot", "--help"])).map((name) => `snapshot ${name}`),
      ...(await help(["images", "--help"])).map((name) => `images ${name}`),
    ];
    expect(commands.length).toBeGreaterThan(15);
    for (const command of commands) {
      expect(text, `docs/commands.md misses prodlike ${command}`).toContain(
        `\`prodlike ${command}`,
      );
    }
  });

  it("give a newcomer a README to finish: the two commands, in under 250 lines", async () => {
    const text = await read("README.md");
    expect(text).toContain("npm ci && npx prodlike up --dir examples/drupal-basic");
    expect(text).toMatch(/^npm test\b/m);
    expect(text.split("\n").length).toBeLessThanOrEqual(250);
  });

  it("link only to docs that exist", async () => {
    const { access } = await import("node:fs/promises");
    for (const file of ["README.md", ...(await docsPages())]) {
      const text = await read(file);
      const base = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
      for (const [, target] of text.matchAll(/\]\(([^)#:\s]+\.(?:md|png|json))(?:#[^)]*)?\)/g)) {
        await expect(
          access(new URL(`../../../${base}${target}`, import.meta.url)),
          `${file} links to ${target}`,
        ).resolves.toBeUndefined();
      }
    }
  });
});

async function docsPages(): Promise<string[]> {
  const { readdir } = await import("node:fs/promises");
  const root = fileURLToPath(new URL("../../../", import.meta.url));
  const entries = await readdir(path.join(root, "docs"), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".md"))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));
}

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
