import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import { describeRemoved, formatTeamList } from "../../../src/cli/format.js";

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

// ls's team rows: owner and lifetime per namespace, a warning line per silent context.
describe("formatTeamList", () => {
  const now = Date.parse("2026-12-03T12:00:00Z");
  const row = {
    context: "team-a",
    namespace: "prodlike-shop-qa",
    env: "shop-qa",
    project: "shop",
    preset: "drupal",
    owner: "ann.box",
    expiresAt: "2026-12-03T14:00:00.000Z",
    kept: false,
    terminating: false,
    recorded: false,
  };

  it("shows each namespace's owner and the contexts that did not answer", () => {
    const text = formatTeamList(
      {
        environments: [
          row,
          { ...row, namespace: "prodlike-shop-old", kept: true, terminating: true },
        ],
        warnings: [{ context: "gone", problem: "connect ECONNREFUSED 127.0.0.1:9" }],
      },
      new Chalk({ level: 0 }),
      now,
    ).split("\n");
    expect(text[0]).toBe("On team clusters:");
    expect(text[1]).toMatch(/^CONTEXT\s+NAMESPACE\s+OWNER\s+TTL\s+STATE\s+PRESET\s+ENVIRONMENT$/);
    expect(text[2]).toMatch(
      /^team-a\s+prodlike-shop-qa\s+ann\.box\s+2h\S* left\s+-\s+drupal\s+shop-qa$/,
    );
    expect(text[3]).toMatch(/prodlike-shop-old\s+ann\.box\s+kept \(.*\)\s+deleting/);
    expect(text[4]).toBe("! gone: connect ECONNREFUSED 127.0.0.1:9");
  });

  it("is empty when there are no team clusters", () => {
    expect(formatTeamList({ environments: [], warnings: [] }, new Chalk({ level: 0 }), now)).toBe(
      "",
    );
  });
});
