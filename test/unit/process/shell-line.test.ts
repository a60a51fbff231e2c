import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { withArguments } from "../../../src/process/shell-line.js";

// What sh itself makes of the text with arguments: the arguments must reach the command.
function run(text: string, args: string[]): string {
  return execFileSync("sh", ["-c", withArguments(text), "prodlike run", ...args], {
    encoding: "utf8",
  }).trimEnd();
}

describe("withArguments", () => {
  it('appends the arguments as "$@"', () => {
    expect(withArguments("echo base")).toBe('echo base "$@"');
    expect(run("echo base", ["a b", "c"])).toBe("base a b c");
  });

  it("keeps the arguments when the text ends with a comment", () => {
    expect(run("echo base # note", ["x"])).toBe("base x");
    expect(run("echo base #note with 'quote", ["x"])).toBe("base x");
    expect(run("echo first\necho base # note\n\n", ["x"])).toBe("first\nbase x");
  });

  it("leaves a # that is not a comment alone", () => {
    expect(run("echo 'a # b'", ["x"])).toBe("a # b x");
    expect(run('echo "a # b"', ["x"])).toBe("a # b x");
    expect(run("echo a#b", ["x"])).toBe("a#b x");
    expect(run("echo a\\ #b", ["x"])).toBe("a #b x");
    expect(run("echo 'multi\nline # still quoted'", ["x"])).toBe("multi\nline # still quoted x");
  });

  it("keeps the arguments after a trailing ; or line continuation", () => {
    expect(run("echo base;", ["x"])).toBe("base x");
    expect(run("echo base \\", ["x"])).toBe("base x");
    expect(run("echo base ; # done", ["x"])).toBe("base x");
  });
});
