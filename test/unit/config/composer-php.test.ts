import { describe, expect, it } from "vitest";
import { phpFromComposer, satisfies } from "../../../src/config/composer-php.js";

describe("satisfies (Composer constraints)", () => {
  it.each([
    ["8.4.0", "^8.3", true],
    ["8.4.0", ">=8.1 <8.4", false],
    ["8.2.0", ">=8.1 <8.4", true],
    ["8.2.0", ">=7.4, <8.4", true],
    ["8.2.0", "~8.2.0", true],
    ["8.3.0", "~8.2.0", false],
    ["8.4.0", "~8.2", true],
    ["8.2.7", "8.2.*", true],
    ["8.4.0", "^8.1 || ^7.4", true],
    ["7.4.3", "^8.1 || ^7.4", true],
    ["8.2.0", ">= 8.3", false],
  ])("%s against %s: %s", (version, constraint, expected) => {
    expect(satisfies(version, constraint)).toBe(expected);
  });
});

describe("phpFromComposer", () => {
  it("takes the newest PHP prodlike builds that the require.php constraint allows", () => {
    expect(phpFromComposer({ require: { php: ">=8.3" } })).toEqual({
      php: "8.4",
      from: "require.php >=8.3",
    });
    expect(phpFromComposer({ require: { php: ">=7.4 <8.4" } })?.php).toBe("8.2");
    // 8.3 exists only as an official image: not written, said why.
    expect(phpFromComposer({ require: { php: "~8.3.0" } })).toEqual({
      php: undefined,
      from: "require.php ~8.3.0",
    });
    expect(phpFromComposer({ require: { php: "~8.1.0" } })).toEqual({
      php: undefined,
      from: "require.php ~8.1.0",
    });
  });

  it("lets config.platform.php win, and says nothing without either", () => {
    expect(
      phpFromComposer({ require: { php: ">=8.1" }, config: { platform: { php: "8.2.12" } } }),
    ).toEqual({ php: "8.2", from: "config.platform.php 8.2.12" });
    expect(phpFromComposer({ require: {} })).toBeUndefined();
    expect(phpFromComposer(undefined)).toBeUndefined();
    expect(phpFromComposer({ require: { php: "dev-main" } })).toBeUndefined();
  });
});
