import { z } from "zod";

// A preset's rules for `db pull --subset` (preset.yaml `pull.subset`), as data: what they
// mean, and the SQL they become, is db/subset.ts's.

const identifier = z.string().regex(/^[A-Za-z0-9_]+$/, "a table or column name");
const tablePattern = z
  .string()
  .regex(/^[A-Za-z0-9_]+\*?$/, "a table name, or a prefix ending in *");
const reference = z
  .string()
  .regex(/^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$/, "TABLE.COLUMN of rows kept before");

export const subsetRulesSchema = z.strictObject({
  /** How many rows of each root table are kept when `--subset` names no number. */
  rows: z.number().int().min(1).default(100),
  steps: z
    .array(
      z.union([
        z.strictObject({
          /** A root: its newest rows by this column are kept. */
          table: identifier,
          newest: identifier,
        }),
        z.strictObject({
          table: tablePattern,
          column: identifier,
          /** Kept where `column` is one of these columns' values in rows kept so far. */
          in: z.array(reference).min(1),
          /** Values always kept (Drupal's anonymous user 0 and first admin 1). */
          always: z.array(z.union([z.number(), z.string()])).default([]),
        }),
      ]),
    )
    .min(1),
  /** SQL counting rows that point at rows the slice lost: each must answer 0. */
  checks: z
    .array(
      z.strictObject({
        name: z.string(),
        /** Run only when the data has these tables. */
        tables: z.array(identifier).default([]),
        sql: z.string().min(1),
      }),
    )
    .default([]),
});
