import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ExecaCommandRunner } from "../../../src/process/execa-command-runner.js";

// Real programs: a shell that starts others, stopped as a whole group.

function running(marker: string): string {
  try {
    return execFileSync("pgrep", ["-f", marker], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

describe("ExecaCommandRunner groups", () => {
  it("stops a group past its timeout: the shell and what it started", async () => {
    const marker = `sleep 4${randomBytes(2).readUInt16BE() % 1000}1`;
    const result = await new ExecaCommandRunner().run(
      "sh",
      ["-c", `${marker} & ${marker}; echo never`],
      { timeoutMs: 300, group: true },
    );
    expect(result.timedOut).toBe(true);
    expect(result.stdout).not.toContain("never");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(running(marker)).toBe("");
  });

  it("stops a group when its signal aborts (Ctrl-C)", async () => {
    const marker = `sleep 5${randomBytes(2).readUInt16BE() % 1000}2`;
    const interrupt = new AbortController();
    setTimeout(() => interrupt.abort(), 300);
    const result = await new ExecaCommandRunner().run("sh", ["-c", `${marker} & ${marker}`], {
      signal: interrupt.signal,
      group: true,
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.timedOut).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(running(marker)).toBe("");
  });
});
