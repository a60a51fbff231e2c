import type { CommandRunner, RunOptions, RunResult } from "../../src/process/command-runner.js";

// A CommandRunner that records argv and answers from a table; anything not in the table
// behaves like a program that is not installed.
export class FakeRunner implements CommandRunner {
  readonly calls: string[][] = [];
  readonly options: RunOptions[] = [];
  private readonly answers = new Map<string, Partial<RunResult>>();

  on(commandLine: string, answer: Partial<RunResult>): this {
    this.answers.set(commandLine, answer);
    return this;
  }

  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.calls.push([file, ...args]);
    this.options.push(options);
    const answer = this.answers.get([file, ...args].join(" "));
    if (!answer) return { exitCode: 127, stdout: "", stderr: `${file}: not found`, notFound: true };
    return { exitCode: 0, stdout: "", stderr: "", notFound: false, ...answer };
  }
}
