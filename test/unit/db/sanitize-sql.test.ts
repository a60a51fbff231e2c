import { describe, expect, it } from "vitest";
import { sanitizeFailure, sanitizeScript, scriptLines } from "../../../src/db/sanitize-sql.js";
import { ProdlikeError } from "../../../src/errors/prodlike-error.js";

// The sanitizing steps as one script inside the switch's client run, and the client's
// "at line N" traced back to the step, wherever in the run the steps stand.

const steps = [
  {
    table: "users_field_data",
    sql: "UPDATE users_field_data SET mail = CONCAT('user+', uid, '@localhost');",
  },
  { table: "sessions", sql: "TRUNCATE sessions" },
  { sql: "UPDATE key_value\nSET value = NULL\nWHERE name = 'x';" },
];

describe("sanitizeScript", () => {
  it("keeps the steps whose table the data has, each ended by one semicolon", () => {
    const script = sanitizeScript(steps, new Set(["users_field_data"]));
    expect(script.statements).toEqual([
      "UPDATE users_field_data SET mail = CONCAT('user+', uid, '@localhost');",
      "UPDATE key_value\nSET value = NULL\nWHERE name = 'x';",
    ]);
    expect(scriptLines(script.statements)).toBe(4);
  });

  it("names the step a failing line belongs to, after the lines before the steps", () => {
    const script = sanitizeScript(steps, new Set(["users_field_data", "sessions"]));
    const failure = (line: number) =>
      sanitizeFailure(
        script,
        new ProdlikeError("COMMAND_FAILED", "mariadb failed", {
          hint: `ERROR 1146 (42S02) at line ${line}: Table 'x' doesn't exist`,
        }),
        1,
      );
    expect(failure(1)).toBeUndefined(); // the `USE` before the steps
    expect(failure(2)?.hint).toContain("Statement: UPDATE users_field_data");
    expect(failure(3)?.hint).toContain("Statement: TRUNCATE sessions");
    expect(failure(5)?.hint).toContain("Statement: UPDATE key_value");
    expect(failure(5)?.code).toBe("PULL_FAILED");
    expect(failure(5)?.hint).toContain("The live database was not changed.");
    expect(failure(6)?.hint).toContain("Statement: UPDATE key_value");
    expect(failure(7)).toBeUndefined(); // the switch after the steps: its own error
  });
});
