import { ProdlikeError } from "../errors/prodlike-error.js";
import type { SanitizeStep } from "./pull-plan.js";

// The sanitizing SQL of a pull as one script: the steps whose table the data has, each
// ended by one `;`, and the way back from the client's "at line N" to the step that
// failed. One client run for all of them: each run is a round trip into the container.

export interface SanitizeScript {
  /** The statements, one per applicable step, in order. */
  statements: string[];
  steps: SanitizeStep[];
}

/** The steps that apply to data holding `present` tables, as statements. */
export function sanitizeScript(
  steps: readonly SanitizeStep[],
  present: ReadonlySet<string>,
): SanitizeScript {
  const applicable = steps.filter((step) => !step.table || present.has(step.table));
  return {
    statements: applicable.map((step) => `${step.sql.trim().replace(/;$/, "")};`),
    steps: applicable,
  };
}

/** The number of lines the statements take in a script. */
export function scriptLines(statements: readonly string[]): number {
  return statements.reduce((lines, text) => lines + text.split("\n").length, 0);
}

/**
 * The client's failure of a script whose statements start after `offset` lines, as a
 * PULL_FAILED naming the step; undefined when the failing line is not one of them.
 */
export function sanitizeFailure(
  script: SanitizeScript,
  error: unknown,
  offset = 0,
): ProdlikeError | undefined {
  const detail =
    error instanceof ProdlikeError ? `${error.message}\n${error.hint ?? ""}` : String(error);
  const line = Number(/at line (\d+)/.exec(detail)?.[1] ?? 0) - offset;
  if (line < 1 || line > scriptLines(script.statements)) return undefined;
  const failed = script.steps[statementAtLine(script.statements, line)];
  return new ProdlikeError("PULL_FAILED", "Sanitizing the pulled data failed", {
    hint: `${detail.trim()}\nStatement: ${failed?.sql.trim()}\nThe live database was not changed.`,
  });
}

/** Which of the statements, sent one after another, holds the script's line `line`. */
function statementAtLine(statements: readonly string[], line: number): number {
  let end = 0;
  for (const [index, text] of statements.entries()) {
    end += text.split("\n").length;
    if (line <= end) return index;
  }
  return 0;
}
