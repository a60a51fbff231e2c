import { describe, expect, it } from "vitest";
import { recreateViewStatements, type StoredView } from "../../../src/db/views.js";

const view = (name: string, definition: string, extra: Partial<StoredView> = {}): StoredView => ({
  name,
  definition,
  algorithm: "UNDEFINED",
  security: "DEFINER",
  checkOption: "NONE",
  ...extra,
});

describe("recreateViewStatements", () => {
  it("re-creates a staged view in the live database, its tables retargeted", () => {
    const statements = recreateViewStatements(
      [
        view(
          "recent",
          "select `site__prodlike_stage`.`node`.`nid` AS `nid` from `site__prodlike_stage`.`node`",
          { algorithm: "MERGE", security: "INVOKER", checkOption: "CASCADED" },
        ),
      ],
      "site__prodlike_stage",
      "site",
    );
    expect(statements).toEqual([
      "CREATE OR REPLACE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW `site`.`recent` AS select `site`.`node`.`nid` AS `nid` from `site`.`node` WITH CASCADED CHECK OPTION;",
    ]);
  });

  it("creates a view after the views it reads from, whatever the listing order", () => {
    const statements = recreateViewStatements(
      [
        view("top", "select `s`.`middle`.`a` AS `a` from `s`.`middle`"),
        view("middle", "select `s`.`bottom`.`a` AS `a` from `s`.`bottom`"),
        view("bottom", "select `s`.`t`.`a` AS `a` from `s`.`t`"),
      ],
      "s",
      "live",
    );
    expect(statements.map((statement) => /VIEW `live`\.`(\w+)`/.exec(statement)?.[1])).toEqual([
      "bottom",
      "middle",
      "top",
    ]);
  });

  it("leaves names that only contain the staging name alone", () => {
    const [statement] = recreateViewStatements(
      [view("v", "select `s`.`t`.`a` AS `a` from `s`.`t` where `t`.`note` = 'from `s`'")],
      "s",
      "live",
    );
    expect(statement).toContain("from `live`.`t` where `t`.`note` = 'from `s`'");
  });
});
