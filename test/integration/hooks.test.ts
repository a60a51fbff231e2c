import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  copyExample,
  describeFailure,
  discardProject,
  expectOk,
  jsonField,
  type TestProject,
} from "./support/harness.js";

// prodlike.yaml's hooks and commands on the real engine: steps in the services and on the
// host, in order, around up and db import; a failing step's exit code and output reach the
// user; --no-hooks; `prodlike run` passing arguments and exit codes through.

let project: TestProject;
let config: string;
const log = () => readFile(path.join(project.dir, "hooks.log"), "utf8").catch(() => "");
const dump = "CREATE TABLE `t` (`id` int);\nINSERT INTO `t` VALUES (1);\n";

async function withHooks(yaml: string): Promise<void> {
  await writeFile(path.join(project.dir, "prodlike.yaml"), `${config}${yaml}`);
}

beforeAll(async () => {
  project = await copyExample("it-hooks");
  config = await readFile(path.join(project.dir, "prodlike.yaml"), "utf8");
}, 60_000);

afterAll(async () => {
  await discardProject(project);
});

describe("hooks and project commands", { timeout: 300_000 }, () => {
  it("runs post-up steps in order, in a service and on the host", async () => {
    await withHooks(
      [
        "hooks:",
        "  post-up:",
        '    - { exec: "cli echo post-up-in-cli $(id -un) >> hooks.log" }',
        '    - { host: "echo post-up-on-host $PRODLIKE_ENV >> hooks.log" }',
        "commands:",
        '  greet: { service: cli, run: "echo hello", description: "says hello" }',
        '  fail: { run: "echo failing >&2; exit 3" }',
        "",
      ].join("\n"),
    );
    const up = await project.cli(["up", "--json"]);
    expectOk(up);
    expect(jsonField<unknown[]>(up, "hooks")).toHaveLength(2);
    const lines = (await log()).trim().split("\n");
    expect(lines[0]).toMatch(/^post-up-in-cli \S+$/);
    expect(lines[0]).not.toBe("post-up-in-cli root");
    expect(lines[1]).toBe(`post-up-on-host ${project.name}-local`);
  });

  it("stops a command with a failing hook's own exit code and output, unless continueOnError", async () => {
    await withHooks(
      [
        "hooks:",
        "  post-import:",
        '    - { exec: "cli echo post-import >> hooks.log" }',
        '    - { exec: "cli echo tolerated; exit 7", continueOnError: true }',
        "",
      ].join("\n"),
    );
    expectOk(await project.cli(["db", "import", "-", "--json"], { input: dump }));
    expect(await log()).toContain("post-import\n");

    await withHooks(
      ["hooks:", "  post-import:", '    - { exec: "cli echo boom; exit 9" }', ""].join("\n"),
    );
    const failed = await project.cli(["db", "import", "-", "--json"], { input: dump });
    expect(failed.exitCode, describeFailure(failed)).toBe(9);
    expect(failed.json).toMatchObject({ ok: false, error: { code: "HOOK_FAILED", exitCode: 9 } });
    expect(JSON.stringify(failed.json)).toContain("boom");

    const skipped = await project.cli(["db", "import", "-", "--no-hooks", "--json"], {
      input: dump,
    });
    expectOk(skipped);
    expect(skipped.json?.hooks).toEqual([]);
  });

  it("runs the project's commands with their arguments and exit codes", async () => {
    await withHooks(
      [
        "commands:",
        '  greet: { service: cli, run: "echo hello", description: "says hello" }',
        '  fail: { run: "echo failing >&2; exit 3" }',
        "",
      ].join("\n"),
    );
    const greet = await project.cli(["run", "greet", "big world", "again"]);
    expectOk(greet);
    expect(greet.stdout.trim()).toBe("hello big world again");
    const fail = await project.cli(["run", "fail"]);
    expect(fail.exitCode).toBe(3);
    expect(fail.stderr).toContain("failing");
    const list = await project.cli(["run", "--list", "--json"]);
    expectOk(list);
    // The preset's own commands (its installer) come first, then the project's.
    const listed = list.json?.commands as { name: string; from: string }[];
    expect(listed.filter((entry) => entry.from === "preset").map((entry) => entry.name)).toEqual([
      "install",
    ]);
    expect(listed.filter((entry) => entry.from === "project")).toEqual([
      {
        name: "greet",
        service: "cli",
        run: "echo hello",
        description: "says hello",
        from: "project",
      },
      { name: "fail", service: "cli", run: "echo failing >&2; exit 3", from: "project" },
    ]);
    const unknown = await project.cli(["run", "nope"]);
    expect(unknown.exitCode).toBe(4);
    expect(unknown.stderr).toContain("COMMAND_UNKNOWN");
    expect(unknown.stderr).toContain("greet, fail");
  });
});
