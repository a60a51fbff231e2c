import { describe, expect, it } from "vitest";
import { environmentIdentity } from "../../../src/topology/identity.js";

describe("environmentIdentity", () => {
  it("names the environment PROJECT-NAME", () => {
    expect(environmentIdentity("/src/shop", undefined, "qa1")).toEqual({
      project: "shop",
      name: "qa1",
      id: "shop-qa1",
    });
  });

  it("refuses a name ending with - (ht-x- and ht-x would share one https name)", () => {
    expect(() => environmentIdentity("/src/ht", undefined, "ht-x-")).toThrow(
      /Invalid environment name `ht-x-`/,
    );
    expect(environmentIdentity("/src/ht", undefined, "a").id).toBe("ht-a");
    expect(environmentIdentity("/src/ht", undefined, "a-1").id).toBe("ht-a-1");
  });
});
