import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { cycles, type ImportEdge, importGraph } from "./import-graph.js";
import { RANK } from "./ranks.js";

// The layering docs/architecture.md draws, checked on every `npm test`: an import only
// ever points down (or across one layer), the CLI reaches everything through core, and
// no files import each other in a circle.

const SRC = fileURLToPath(new URL("../../../src", import.meta.url));

/** What the CLI may run code from; anything else it reaches through core or the dashboard
 *  (types aside). */
const CLI_REACHES = new Set([
  "cli",
  "core",
  "dashboard",
  "errors",
  "ui",
  "version.ts",
  "package-files.ts",
]);

const layerOf = (file: string) => file.split("/")[0] ?? file;

let edges: ImportEdge[];
beforeAll(async () => {
  edges = await importGraph(SRC);
});

describe("the source tree's layers", () => {
  it("reads the imports (a sanity check that the reader sees them)", () => {
    expect(edges.length).toBeGreaterThan(400);
    expect(edges).toContainEqual({
      from: "cli/commands/up.ts",
      to: "core/operations.ts",
      typeOnly: false,
    });
    expect(edges.some((edge) => edge.typeOnly)).toBe(true);
  });

  it("gives every folder a rank", () => {
    const unranked = [...new Set(edges.flatMap((edge) => [edge.from, edge.to]).map(layerOf))]
      .filter((layer) => RANK[layer] === undefined)
      .sort();
    expect(unranked).toEqual([]);
  });

  it("never imports upward", () => {
    const upward = edges
      .filter((edge) => (RANK[layerOf(edge.from)] ?? 0) < (RANK[layerOf(edge.to)] ?? 0))
      .map((edge) => `${edge.from} -> ${edge.to}`);
    expect(upward).toEqual([]);
  });

  it("lets the CLI run only core's and the dashboard's code (and the UI, errors and version)", () => {
    const bypass = edges
      .filter(
        (edge) =>
          layerOf(edge.from) === "cli" && !edge.typeOnly && !CLI_REACHES.has(layerOf(edge.to)),
      )
      .map((edge) => `${edge.from} -> ${edge.to}`);
    expect(bypass).toEqual([]);
  });

  // Inside the layers: a backend renders the model for its own engine (compose never
  // reaches into the cluster code, nor the reverse), and reaches production's manifests
  // only through what topology and kube hold (never the mirror's reading of them).
  it.each([
    ["backends/compose/", "backends/kube/"],
    ["backends/kube/", "backends/compose/"],
    ["backends/", "mirror/"],
  ])("keeps %s from importing %s", (from, to) => {
    const crossing = edges
      .filter((edge) => edge.from.startsWith(from) && edge.to.startsWith(to))
      .map((edge) => `${edge.from} -> ${edge.to}`);
    expect(crossing).toEqual([]);
  });

  it("has no import cycle", () => {
    expect(cycles(edges).map((cycle) => cycle.join(" -> "))).toEqual([]);
  });
});

describe("the checks themselves", () => {
  it("find a cycle and report it once", () => {
    const found = cycles([
      { from: "a.ts", to: "b.ts", typeOnly: false },
      { from: "b.ts", to: "c.ts", typeOnly: true },
      { from: "c.ts", to: "a.ts", typeOnly: false },
      { from: "c.ts", to: "d.ts", typeOnly: false },
    ]);
    expect(found).toEqual([["a.ts", "b.ts", "c.ts"]]);
    expect(cycles([{ from: "a.ts", to: "b.ts", typeOnly: false }])).toEqual([]);
  });
});
