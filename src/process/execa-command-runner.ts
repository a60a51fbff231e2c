import type { CommandRunner, RunOptions, RunResult } from "./command-runner.js";

// CommandRunner over execa. Never throws for a non-zero exit: callers decide what a
// failure means and turn it into a ProdlikeError with the right code. execa is loaded on
// the first run, so commands that start no process do not pay for it.
export class ExecaCommandRunner implements CommandRunner {
  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const { execa } = await import("execa");
    const inherit = options.stdio === "inherit";
    const result = await execa(file, args, {
      reject: false,
      extendEnv: true,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
      ...(options.input === undefined ? {} : { input: options.input }),
      stdin: inherit ? "inherit" : options.input === undefined ? "ignore" : "pipe",
      stdout: inherit ? "inherit" : "pipe",
      stderr: inherit ? "inherit" : "pipe",
      stripFinalNewline: true,
    });
    const notFound = (result as { code?: string }).code === "ENOENT";
    return {
      exitCode: result.exitCode ?? (notFound ? 127 : 1),
      stdout: typeof result.stdout === "string" ? result.stdout : "",
      stderr: typeof result.stderr === "string" ? result.stderr : "",
      notFound,
    };
  }
}
