import type { ChalkInstance } from "chalk";
import { errorCatalog } from "../errors/catalog.js";
import { ExitCode } from "../errors/exit-codes.js";
import { fromSystemError, isProdlikeError, ProdlikeError } from "../errors/prodlike-error.js";
import { createColour } from "../ui/colour.js";
import type { Progress } from "../ui/steps.js";

export type OutputMode = "tty" | "plain" | "json";

export interface GlobalFlags {
  json: boolean;
  debug: boolean;
}

// Where each kind of output goes: progress on stderr (a task list on a terminal, plain
// lines otherwise, nothing with --json), data on stdout, one JSON document with --json.
export class Output {
  readonly mode: OutputMode;
  readonly colour: ChalkInstance;
  private warnings: string[] = [];

  constructor(
    readonly flags: GlobalFlags,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {
    const ci = env.CI !== undefined && env.CI !== "" && env.CI !== "false";
    // A terminal that reports no width (a bare `script` session, some CI runners) cannot
    // draw a task list that redraws itself: plain lines there.
    const drawable = stderr.isTTY === true && (stderr.columns ?? 0) > 0;
    this.mode = flags.json ? "json" : drawable && !ci ? "tty" : "plain";
    this.colour = createColour(this.mode === "tty" ? stderr : stdout, env);
  }

  async progress(): Promise<Progress> {
    if (this.mode === "json") {
      const { SilentProgress } = await import("../ui/plain-progress.js");
      const silent = new SilentProgress();
      this.warnings = silent.warnings;
      return silent;
    }
    if (this.mode === "tty") {
      const { ListrProgress } = await import("../ui/listr-progress.js");
      return new ListrProgress(this.stderr, this.colour);
    }
    const { PlainProgress } = await import("../ui/plain-progress.js");
    return new PlainProgress(this.stderr, this.colour);
  }

  /** Prints the result: `human` on stdout normally, `document` as JSON with --json. */
  result(command: string, document: Record<string, unknown>, human: () => string): void {
    if (this.mode === "json") {
      this.writeJson({ ok: true, command, ...document, warnings: this.warnings });
      return;
    }
    const text = human();
    if (text) this.stdout.write(`${text}\n`);
  }

  /** Reports an error and returns the exit code to use. */
  error(command: string, error: unknown): number {
    const known = isProdlikeError(error) ? error : fromSystemError(error);
    const failure =
      known ??
      new ProdlikeError("INTERNAL", error instanceof Error ? error.message : String(error), {
        hint: "This is a bug in prodlike. Run again with --debug and report the output.",
        cause: error,
      });
    if (this.mode === "json") {
      this.writeJson({
        ok: false,
        command,
        error: {
          code: failure.code,
          title: errorCatalog[failure.code].title,
          message: failure.message,
          ...(failure.hint ? { hint: failure.hint } : {}),
          ...(failure.location ? { location: failure.location } : {}),
          exitCode: failure.exitCode,
          ...(failure.data ? { data: failure.data } : {}),
        },
      });
    } else {
      const colour = createColour(this.stderr, this.env);
      this.stderr.write(`${colour.red(`error[${failure.code}]`)}: ${failure.message}\n`);
      if (failure.hint)
        this.stderr.write(`${colour.dim("hint:")} ${failure.hint.replace(/\n/g, "\n  ")}\n`);
    }
    if (this.flags.debug) {
      const stack = (known?.cause instanceof Error ? known.cause : error) as Error | undefined;
      this.stderr.write(`${stack?.stack ?? String(error)}\n`);
    }
    return failure.exitCode ?? ExitCode.failed;
  }

  private writeJson(document: unknown): void {
    this.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  }
}
