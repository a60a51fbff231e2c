import { describe, expect, it } from "vitest";
import { applicableChecks, matching, subsetStatements } from "../../../src/db/subset.js";
import { loadPreset } from "../../../src/topology/preset-loader.js";
import { subsetRulesSchema } from "../../../src/topology/subset-rules.js";

// The SQL `db pull --subset` cuts a staging copy with (the real cut, on a production
// server's data, is the integration suite's: db-subset.test.ts).

const schema = (tables: Record<string, string[]>) =>
  new Map(Object.entries(tables).map(([table, columns]) => [table, new Set(columns)]));

const rules = subsetRulesSchema.parse({
  rows: 10,
  steps: [
    { table: "node_field_data", newest: "nid" },
    { table: "node__*", column: "entity_id", in: ["node_field_data.nid"] },
    {
      table: "users_field_data",
      column: "uid",
      in: ["node_field_data.uid", "comment.uid"],
      always: [0, 1],
    },
  ],
  checks: [
    { name: "authors", tables: ["node_field_data", "users_field_data"], sql: "SELECT 0" },
    { name: "comments", tables: ["comment"], sql: "SELECT 0" },
  ],
});

describe("subsetStatements", () => {
  it("keeps the newest rows of a root, then what points at kept rows, in the rules' order", () => {
    const statements = subsetStatements(
      rules,
      schema({
        node_field_data: ["nid", "uid"],
        node__body: ["entity_id"],
        node__tags: ["entity_id"],
        node_revision: ["nid"],
        users_field_data: ["uid"],
      }),
      25,
    );
    expect(statements).toEqual([
      "DELETE FROM `node_field_data` WHERE `nid` NOT IN (SELECT `nid` FROM (SELECT `nid` FROM `node_field_data` ORDER BY `nid` DESC LIMIT 25) AS newest);",
      "DELETE FROM `node__body` WHERE `entity_id` IS NOT NULL AND `entity_id` NOT IN (SELECT * FROM (SELECT `nid` FROM `node_field_data` WHERE `nid` IS NOT NULL) AS kept);",
      "DELETE FROM `node__tags` WHERE `entity_id` IS NOT NULL AND `entity_id` NOT IN (SELECT * FROM (SELECT `nid` FROM `node_field_data` WHERE `nid` IS NOT NULL) AS kept);",
      // comment is not in this data: only the nodes' authors and users 0 and 1 stay.
      "DELETE FROM `users_field_data` WHERE `uid` IS NOT NULL AND `uid` NOT IN (SELECT * FROM (SELECT `uid` FROM `node_field_data` WHERE `uid` IS NOT NULL UNION SELECT 0 UNION SELECT 1) AS kept);",
    ]);
  });

  it("leaves alone what the data lacks: a table, a column, every table it points at", () => {
    expect(subsetStatements(rules, schema({ users_field_data: ["uid"] }), 10)).toEqual([]);
    // node_field_data has no uid here: users are kept whole.
    expect(
      subsetStatements(rules, schema({ node_field_data: ["nid"], users_field_data: ["uid"] }), 10),
    ).toHaveLength(1);
  });

  it("runs only the checks whose tables the data has", () => {
    const names = applicableChecks(
      rules,
      schema({ node_field_data: ["nid"], users_field_data: ["uid"] }),
    ).map((check) => check.name);
    expect(names).toEqual(["authors"]);
  });

  it("matches a name, or a prefix ending in *", () => {
    const tables = ["node__body", "node", "node__tags", "node_revision__body"];
    expect(matching("node__*", tables)).toEqual(["node__body", "node__tags"]);
    expect(matching("node", tables)).toEqual(["node"]);
    expect(matching("nodes", tables)).toEqual([]);
  });

  it("refuses rules naming anything but plain tables and columns", () => {
    expect(() =>
      subsetRulesSchema.parse({ steps: [{ table: "x; DROP TABLE y", newest: "id" }] }),
    ).toThrow();
    expect(() =>
      subsetRulesSchema.parse({ steps: [{ table: "x", column: "id", in: ["y"] }] }),
    ).toThrow();
  });
});

describe("the presets' subset rules", () => {
  it("are declared by Drupal and OpenMage, and load", async () => {
    for (const name of ["drupal", "openmage"]) {
      const subset = (await loadPreset(name)).definition.pull.subset;
      expect(subset?.steps.length, name).toBeGreaterThan(3);
      expect(subset?.checks.length, name).toBeGreaterThan(2);
    }
  });

  it("cut OpenMage's orders first, then their customers and the products ordered", async () => {
    const subset = (await loadPreset("openmage")).definition.pull.subset;
    if (!subset) throw new Error("no subset rules");
    const statements = subsetStatements(
      subset,
      schema({
        sales_flat_order: ["entity_id", "customer_id"],
        sales_flat_order_item: ["order_id", "product_id"],
        customer_entity: ["entity_id"],
        customer_entity_varchar: ["value_id", "entity_id"],
        catalog_product_entity: ["entity_id"],
        catalog_product_entity_media_gallery_value: ["value_id"],
      }),
      5,
    );
    expect(statements.map((statement) => /DELETE FROM `([a-z_]+)`/.exec(statement)?.[1])).toEqual([
      "sales_flat_order",
      "sales_flat_order_item",
      "customer_entity",
      "customer_entity_varchar",
      "catalog_product_entity",
    ]);
  });
});
