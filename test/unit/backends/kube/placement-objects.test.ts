import { describe, expect, it } from "vitest";
import { quarterOf } from "../../../../src/backends/kube/placement-objects.js";

// The LimitRange's default request is a quarter of its default limit (cluster.resources).

describe("quarterOf", () => {
  it("keeps the unit written when the quarter is whole, else goes one unit down", () => {
    expect(quarterOf("640Mi")).toBe("160Mi");
    expect(quarterOf("8Gi")).toBe("2Gi");
    expect(quarterOf("1Gi")).toBe("256Mi");
    expect(quarterOf("512M")).toBe("128M");
  });

  it("gives CPU in millicores, never below 1m", () => {
    expect(quarterOf("2")).toBe("500m");
    expect(quarterOf("750m")).toBe("187m");
    expect(quarterOf("1m")).toBe("1m");
  });

  it("leaves what it cannot read as it is", () => {
    expect(quarterOf("lots")).toBe("lots");
  });
});
