import { type ErrorCode, errorCatalog } from "./catalog.js";

export interface ErrorDetails {
  hint?: string;
  /** Where in the user's input the problem is, when it is in a file. */
  location?: { file: string; line?: number; column?: number; field?: string };
  cause?: unknown;
  /** Extra structured fields for --json (never secrets). */
  data?: Record<string, unknown>;
  /** The exit code of a program prodlike ran on the user's behalf (a hook), passed through
   *  instead of the catalog's. */
  exitCode?: number;
}

// The one error type that crosses module boundaries. The CLI turns it into a message and
// an exit code; anything else reaching the top is a bug and is reported as INTERNAL.
export class ProdlikeError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly location: ErrorDetails["location"];
  readonly data: Record<string, unknown> | undefined;
  private readonly passedExitCode: number | undefined;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "ProdlikeError";
    this.code = code;
    this.hint = details.hint;
    this.location = details.location;
    this.data = details.data;
    this.passedExitCode = details.exitCode;
  }

  get exitCode(): number {
    return this.passedExitCode ?? errorCatalog[this.code].exitCode;
  }

  get title(): string {
    return errorCatalog[this.code].title;
  }
}

export function isProdlikeError(error: unknown): error is ProdlikeError {
  return error instanceof ProdlikeError;
}

const DISK_FULL_CODES = new Set(["ENOSPC", "EDQUOT"]);
const IO_CODES = new Set([
  "EACCES",
  "EPERM",
  "EROFS",
  "EIO",
  "EISDIR",
  "ENOTDIR",
  "ENOENT",
  "EMFILE",
  "ENFILE",
]);

/**
 * A failed file system call, said as what it means to the user: DISK_FULL or IO_FAILED
 * with the path. Undefined for anything else (which then stays a bug, INTERNAL).
 */
export function fromSystemError(error: unknown): ProdlikeError | undefined {
  if (isProdlikeError(error) || !(error instanceof Error)) return undefined;
  const { code, path, syscall } = error as NodeJS.ErrnoException;
  if (code === undefined) return undefined;
  const where = path ? ` (${path})` : "";
  if (DISK_FULL_CODES.has(code)) {
    return new ProdlikeError("DISK_FULL", `No space left on the disk${where}`, {
      hint: "Free some space (`df -h`), then run the command again. Nothing half-written was kept.",
      cause: error,
      data: { errno: code, ...(path ? { path } : {}) },
    });
  }
  if (IO_CODES.has(code)) {
    return new ProdlikeError(
      "IO_FAILED",
      `Cannot ${syscall ?? "use"} ${path ?? "a file"}: ${code}`,
      {
        hint:
          code === "EACCES" || code === "EPERM"
            ? "Check the owner and mode of that path (ls -ld); prodlike runs as you, not as root."
            : code === "ENOENT" || code === "ENOTDIR"
              ? "Its folder does not exist: create it, or give another path."
              : "Check that path: the file system may be read-only or failing.",
        cause: error,
        data: { errno: code, ...(path ? { path } : {}) },
      },
    );
  }
  return undefined;
}
