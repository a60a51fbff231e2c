import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/example-project.js";
import {
  type CliResult,
  expectOk,
  httpGet,
  jsonField,
  runCli,
  webUrlOf,
} from "./support/harness.js";

// A preset that lives in the project's own folder (test/fixtures/presets/static-site,
// copied to presets/static-site), on the real engine: `up` builds it on prodlike's shared
// images, its install check and installer work, its refresh step runs after a data change.
// Nothing in prodlike names it.

let base: string;
let dir: string;
let home: string;
const cli = (args: string[], input?: string): Promise<CliResult> =>
  runCli(args, { cwd: dir, home, ...(input === undefined ? {} : { input }) });

beforeAll(async () => {
  const name = `it-own-${randomBytes(3).toString("hex")}`;
  base = await mkdtemp(path.join(os.tmpdir(), "prodlike-it-"));
  dir = path.join(base, name);
  home = path.join(base, "home");
  await mkdir(path.join(dir, "presets"), { recursive: true });
  await cp(
    path.join(repoRoot, "test", "fixtures", "presets", "static-site"),
    path.join(dir, "presets", "static-site"),
    { recursive: true },
  );
  await writeFile(
    path.join(dir, "prodlike.yaml"),
    `name: ${name}\npreset: ./presets/static-site\n`,
  );
  await writeFile(path.join(dir, "index.html"), "<h1>static site</h1>\n");
}, 60_000);

afterAll(async () => {
  await cli(["destroy", "--keep-images"]).catch(() => undefined);
  await rm(base, { recursive: true, force: true });
});

describe("a preset in the project's own folder", { timeout: 600_000 }, () => {
  it("comes up, is installed by its own command, and refreshes as it declares", async () => {
    const up = await cli(["up", "--json"]);
    expectOk(up);
    expect((await httpGet(`${webUrlOf(up)}/`)).body).toContain("static site");
    expect(jsonField<{ preset: string }>(up, "environment").preset).toBe("static-site");
    expect(jsonField<{ installed: boolean; command: string }>(up, "install")).toEqual({
      installed: false,
      command: "prodlike run install",
    });

    const listed = await cli(["run", "--list", "--json"]);
    expectOk(listed);
    expect(jsonField<{ name: string; from: string }[]>(listed, "commands")).toContainEqual(
      expect.objectContaining({ name: "install", from: "preset" }),
    );
    expectOk(await cli(["run", "install"]));
    const again = await cli(["up", "--json"]);
    expectOk(again);
    expect(jsonField<{ installed: boolean }>(again, "install").installed).toBe(true);

    const imported = await cli(
      ["db", "import", "-", "--json"],
      "CREATE TABLE site_installed (at DATETIME);\nCREATE TABLE pages (id INT);\n",
    );
    expectOk(imported);
    expect(jsonField<string[]>(imported, "refreshed")).toEqual(["web reloaded"]);
  });
});
