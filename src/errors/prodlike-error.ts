import { type ErrorCode, errorCatalog } from "./catalog.js";
import type { ExitCodeValue } from "./exit-codes.js";

export interface ErrorDetails {
  hint?: string;
  /** Where in the user's input the problem is, when it is in a file. */
  location?: { file: string; line?: number; column?: number; field?: string };
  cause?: unknown;
  /** Extra structured fields for --json (never secrets). */
  data?: Record<string, unknown>;
}

// The one error type that crosses module boundaries. The CLI turns it into a message and
// an exit code; anything else reaching the top is a bug and is reported as INTERNAL.
export class ProdlikeError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly location: ErrorDetails["location"];
  readonly data: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "ProdlikeError";
    this.code = code;
    this.hint = details.hint;
    this.location = details.location;
    this.data = details.data;
  }

  get exitCode(): ExitCodeValue {
    return errorCatalog[this.code].exitCode;
  }

  get title(): string {
    return errorCatalog[this.code].title;
  }
}

export function isProdlikeError(error: unknown): error is ProdlikeError {
  return error instanceof ProdlikeError;
}
