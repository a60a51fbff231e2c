import { describe, expect, it } from "vitest";
import { describeRemoved } from "../../../src/cli/format.js";

// destroy's and gc's summary line: what went, a cluster named when one was deleted.

describe("describeRemoved", () => {
  const nothing = { containers: [], volumes: [], networks: [], images: [], snapshots: [] };

  it("names the deleted cluster first", () => {
    expect(
      describeRemoved({ ...nothing, images: ["prodlike/nginx:1"], clusters: ["prodlike-shop"] }),
    ).toBe("cluster prodlike-shop, containers 0, volumes 0, networks 0, images 1, snapshots 0");
  });

  it("counts only, without a cluster", () => {
    expect(describeRemoved({ ...nothing, containers: ["a", "b"] })).toBe(
      "containers 2, volumes 0, networks 0, images 0, snapshots 0",
    );
  });
});
