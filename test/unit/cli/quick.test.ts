import { describe, expect, it } from "vitest";
import { quickCommand } from "../../../src/cli/quick.js";

describe("the quick path of status and ls", () => {
  it("reads their plain forms with main's defaults", () => {
    expect(quickCommand(["status"], "/work/shop")).toEqual({
      command: "status",
      options: { dir: "/work/shop", json: false, debug: false },
    });
    expect(
      quickCommand(
        ["status", "--json", "-n", "qa-1", "-C", "/srv/shop", "--backend", "kind"],
        "/x",
      ),
    ).toEqual({
      command: "status",
      options: { dir: "/srv/shop", name: "qa-1", backend: "kind", json: true, debug: false },
    });
    expect(quickCommand(["ls", "--debug", "--dir", "/a"], "/x")?.options).toEqual({
      dir: "/a",
      json: false,
      debug: true,
    });
  });

  it("leaves everything else to main (help, errors, other commands)", () => {
    for (const argv of [
      ["up"],
      ["status", "--help"],
      ["status", "-h"],
      ["status", "--name"],
      ["status", "--name", "--json"],
      ["status", "--backend", "docker"],
      ["status", "--bogus"],
      ["status", "extra"],
      ["ls", "--name", "x"],
      ["ls", "--json=true"],
      [],
    ]) {
      expect(quickCommand(argv, "/x"), argv.join(" ")).toBeUndefined();
    }
  });
});
