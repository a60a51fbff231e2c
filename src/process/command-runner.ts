import type { Readable, Writable } from "node:stream";

// Runs outside programs. Backends take this interface, so unit tests pass a fake that
// records argv and no binary is needed.

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Text fed to the program's stdin. */
  input?: string;
  /** `inherit` hands the terminal to the program (exec, shell, logs -f). */
  stdio?: "pipe" | "inherit";
  timeoutMs?: number;
  /** Stops the program when aborted (Ctrl-C). */
  signal?: AbortSignal;
  /** Runs the program in a process group of its own: a timeout or the signal stops the
   *  whole group (what a shell started too), not only the program. */
  group?: boolean;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The program could not be started at all (ENOENT). */
  notFound: boolean;
  /** It ran past timeoutMs and was stopped. */
  timedOut?: boolean;
}

/** How much of a program's error output is kept: enough to explain a failure, while a
 *  chatty program cannot fill memory. */
export const OUTPUT_TAIL_CHARS = 256 * 1024;

export interface StreamOptions {
  /** Piped into the program's stdin, which is closed at its end. */
  stdin?: Readable;
  /** Receives the program's stdout; without it stdout is collected as text. */
  stdout?: Writable;
  env?: Record<string, string>;
}

export interface CommandRunner {
  run(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Runs a program with streams for stdin/stdout (dumps in and out); stderr collected. */
  stream(file: string, args: readonly string[], options: StreamOptions): Promise<RunResult>;
}

// Renders argv for messages; quotes what a shell would split.
export function formatCommand(file: string, args: readonly string[]): string {
  return [file, ...args]
    .map((part) => (/^[\w./:=@,+-]+$/.test(part) ? part : JSON.stringify(part)))
    .join(" ");
}
