import { ProdlikeError } from "../errors/prodlike-error.js";
import type { LocalDatabase } from "./local-database.js";
import {
  applicableChecks,
  type SubsetRules,
  subsetStatements,
  type TableColumns,
} from "./subset.js";

// The slice cut on the staging copy of a pull (see subset.ts), then checked: a check that
// finds rows pointing at nothing stops the pull before the switch (the live data stays).

export interface SubsetRequest {
  rules: SubsetRules;
  /** Rows kept of each root table. */
  rows: number;
}

export interface SubsetReport {
  rows: number;
  /** The DELETE statements that applied to this data. */
  statements: number;
  /** The checks that held. */
  checks: string[];
}

export async function cutToSubset(
  db: LocalDatabase,
  stage: string,
  request: SubsetRequest,
): Promise<SubsetReport> {
  const schema = await columnsOf(db, stage);
  const statements = subsetStatements(request.rules, schema, request.rows);
  if (statements.length > 0) await db.query(statements.join("\n"), stage);
  const checks = applicableChecks(request.rules, schema);
  const broken: string[] = [];
  for (const check of checks) {
    const count = Number((await db.query(`${check.sql.trim().replace(/;$/, "")};`, stage)).trim());
    if (!(count === 0))
      broken.push(`${check.name}: ${Number.isNaN(count) ? "no count" : `${count} row(s)`}`);
  }
  if (broken.length > 0) {
    throw new ProdlikeError("PULL_FAILED", "The subset of the pulled data is not consistent", {
      hint: `${broken.join("\n")}\nThe preset's subset rules miss a reference this site has. The live database was not changed; pull without --subset, or fix the rules.`,
    });
  }
  return {
    rows: request.rows,
    statements: statements.length,
    checks: checks.map((check) => check.name),
  };
}

async function columnsOf(db: LocalDatabase, stage: string): Promise<TableColumns> {
  const rows = await db.query(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = '${stage}';`,
  );
  const schema = new Map<string, Set<string>>();
  for (const row of rows.split("\n")) {
    const [table, column] = row.split("\t");
    if (!table || !column) continue;
    const columns = schema.get(table) ?? new Set<string>();
    columns.add(column);
    schema.set(table, columns);
  }
  return schema;
}
