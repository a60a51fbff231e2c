import type {
  CommandRunner,
  RunOptions,
  RunResult,
  StreamOptions,
} from "../../src/process/command-runner.js";

// A CommandRunner that records argv and answers from a table; anything not in the table
// behaves like a program that is not installed.
export class FakeRunner implements CommandRunner {
  readonly calls: string[][] = [];
  readonly options: RunOptions[] = [];
  private readonly answers = new Map<string, Partial<RunResult>[]>();

  /** Answers for one command line, in call order; the last one repeats. */
  on(commandLine: string, ...answers: Partial<RunResult>[]): this {
    this.answers.set(commandLine, answers);
    return this;
  }

  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.calls.push([file, ...args]);
    this.options.push(options);
    const queue = this.answers.get([file, ...args].join(" "));
    const answer = queue && queue.length > 1 ? queue.shift() : queue?.[0];
    if (!answer) return { exitCode: 127, stdout: "", stderr: `${file}: not found`, notFound: true };
    return { exitCode: 0, stdout: "", stderr: "", notFound: false, ...answer };
  }

  /** Like run; stdin is read to the end and kept in `streamed`. */
  readonly streamed: string[] = [];
  async stream(file: string, args: readonly string[], options: StreamOptions): Promise<RunResult> {
    let input = "";
    if (options.stdin) for await (const chunk of options.stdin) input += String(chunk);
    this.streamed.push(input);
    const result = await this.run(file, args);
    if (options.stdout && result.stdout) options.stdout.write(result.stdout);
    return result;
  }
}
