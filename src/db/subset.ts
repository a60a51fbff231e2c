import type { z } from "zod";
import type { subsetRulesSchema } from "../topology/subset-rules.js";

// `db pull --subset`: a consistent slice of production, cut on the staging copy before
// it is sanitized and switched in. A preset declares the rules (preset.yaml `subset:`):
// the root tables whose newest N rows are kept, then, in order, the tables kept only
// where they point at kept rows (a node's fields, its author, its files), so every row
// left refers to rows that are there. Tables no rule names are kept whole (config,
// menus, taxonomy). Each rule applies to the tables the data has (a name may end in `*`);
// a preset's checks (counts of rows pointing at nothing) must all be 0 on the slice, or
// the pull stops before anything goes live.

export type SubsetRules = z.output<typeof subsetRulesSchema>;
export type SubsetCheck = SubsetRules["checks"][number];

/** Each table of the data with its columns. */
export type TableColumns = ReadonlyMap<string, ReadonlySet<string>>;

/** The DELETE statements that cut the data (its tables and their columns) down to the
 *  slice, in order; `rows`: how many of each root's newest rows stay. A rule whose table
 *  or column the data lacks does nothing. */
export function subsetStatements(rules: SubsetRules, schema: TableColumns, rows: number): string[] {
  const has = (table: string, column: string) => schema.get(table)?.has(column) === true;
  const tables = [...schema.keys()];
  const statements: string[] = [];
  for (const step of rules.steps) {
    if ("newest" in step) {
      if (!has(step.table, step.newest)) continue;
      // The derived table is materialised first: MariaDB cannot delete from a table it
      // reads in the same statement's subquery otherwise.
      statements.push(
        `DELETE FROM ${quote(step.table)} WHERE ${quote(step.newest)} NOT IN (SELECT ${quote(step.newest)} FROM (SELECT ${quote(step.newest)} FROM ${quote(step.table)} ORDER BY ${quote(step.newest)} DESC LIMIT ${Math.floor(rows)}) AS newest);`,
      );
      continue;
    }
    const sources = step.in
      .map((ref) => ref.split(".") as [string, string])
      .filter(([table, column]) => has(table, column));
    for (const table of matching(step.table, tables).filter((name) => has(name, step.column))) {
      const kept = [
        ...sources.map(
          ([source, column]) =>
            `SELECT ${quote(column)} FROM ${quote(source)} WHERE ${quote(column)} IS NOT NULL`,
        ),
        ...step.always.map((value) => `SELECT ${literal(value)}`),
      ];
      // Nothing to keep it by (the tables it points at are not in this data): whole.
      if (sources.length === 0) continue;
      statements.push(
        `DELETE FROM ${quote(table)} WHERE ${quote(step.column)} IS NOT NULL AND ${quote(step.column)} NOT IN (SELECT * FROM (${kept.join(" UNION ")}) AS kept);`,
      );
    }
  }
  return statements;
}

/** The checks that apply to the data (it has all their tables). */
export function applicableChecks(rules: SubsetRules, schema: TableColumns): SubsetCheck[] {
  return rules.checks.filter((check) => check.tables.every((table) => schema.has(table)));
}

/** The tables a `prefix*` pattern (or a plain name) names among `tables`, sorted. */
export function matching(pattern: string, tables: readonly string[]): string[] {
  if (!pattern.endsWith("*")) return tables.includes(pattern) ? [pattern] : [];
  const prefix = pattern.slice(0, -1);
  return tables.filter((table) => table.startsWith(prefix)).sort();
}

function quote(name: string): string {
  return `\`${name.replaceAll("`", "``")}\``;
}

function literal(value: number | string): string {
  return typeof value === "number" ? String(value) : `'${value.replaceAll("'", "''")}'`;
}
