import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./support/harness.js";

// Bad input through the real binary: a clear message naming file and line, exit 2, no
// stack trace; and the JSON form for scripts.

async function projectWith(yaml: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-bad-"));
  await writeFile(path.join(dir, "prodlike.yaml"), yaml);
  return dir;
}

describe("malformed prodlike.yaml", () => {
  it("exits 2 naming file:line and the field, with a hint and no stack trace", async () => {
    const dir = await projectWith("name: shop\npreset: drupal\nports:\n  web: eighty\n");
    const result = await runCli(["up"], { cwd: dir, home: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`${path.join(dir, "prodlike.yaml")}:4: field \`ports.web\``);
    expect(result.stderr).toContain("hint:");
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it("gives the same error as one JSON document with --json", async () => {
    const dir = await projectWith("name: shop\n  bad: [indent\n");
    const result = await runCli(["up", "--json"], { cwd: dir, home: dir });
    expect(result.exitCode).toBe(2);
    expect(result.json).toMatchObject({
      ok: false,
      command: "up",
      error: {
        code: "CONFIG_SYNTAX",
        exitCode: 2,
        location: { file: path.join(dir, "prodlike.yaml") },
      },
    });
    expect(result.stderr).toBe("");
  });

  it("prints a stack trace only with --debug", async () => {
    const dir = await projectWith("nmae: shop\n");
    const plain = await runCli(["status"], { cwd: dir, home: dir });
    expect(plain.exitCode).toBe(2);
    expect(plain.stderr).toContain("unknown field `nmae`");
    const debug = await runCli(["status", "--debug"], { cwd: dir, home: dir });
    expect(debug.stderr).toMatch(/^\s+at /m);
  });

  it("rejects an unknown flag with exit 2", async () => {
    const dir = await projectWith("name: shop\n");
    const result = await runCli(["up", "--frobnicate"], { cwd: dir, home: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("unknown option");
  });

  it("gives one JSON document for an unknown flag with --json", async () => {
    const dir = await projectWith("name: shop\n");
    const result = await runCli(["up", "--json", "--bogus-flag"], { cwd: dir, home: dir });
    expect(result.exitCode).toBe(2);
    expect(result.json).toMatchObject({
      ok: false,
      error: { code: "USAGE", exitCode: 2, message: "unknown option '--bogus-flag'" },
    });
    expect(result.stderr).toBe("");
  });

  it("refuses an alias bomb, a deeply nested and a huge file as CONFIG_INVALID, not a crash", async () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...["b", "c", "d", "e", "f"].map(
        (name, index) => `${name}: &${name} [${Array(9).fill(`*${"abcde"[index]}`).join(",")}]`,
      ),
      "",
    ].join("\n");
    const deep = `name: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`;
    const huge = `name: shop\n${"# padding\n".repeat(200_000)}`;
    for (const yaml of [bomb, deep, huge]) {
      const dir = await projectWith(yaml);
      const result = await runCli(["status", "--json"], { cwd: dir, home: dir });
      expect(result.exitCode, result.stdout).toBe(2);
      expect(result.json).toMatchObject({ ok: false, error: { code: "CONFIG_INVALID" } });
    }
  });
});
