import type { ChalkInstance } from "chalk";
import type { Progress, Step, StepContext } from "./steps.js";

const PLAIN_UPDATE_INTERVAL_MS = 5000;

// One line per step start and end, on stderr: readable in CI logs and pipes.
export class PlainProgress implements Progress {
  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly colour: ChalkInstance,
  ) {}

  async run(steps: Step[]): Promise<void> {
    for (const step of steps) await this.runStep(step, "");
  }

  info(message: string): void {
    this.stream.write(`${message}\n`);
  }

  warn(message: string): void {
    this.stream.write(`${this.colour.yellow("warning:")} ${message}\n`);
  }

  private async runStep(step: Step, indent: string): Promise<void> {
    let title = step.title;
    const started = Date.now();
    this.stream.write(`${indent}${this.colour.cyan("→")} ${title}\n`);
    let lastUpdate = 0;
    const context: StepContext = {
      // Logs are read later, not watched: a progress line every few seconds is enough.
      update: (detail) => {
        if (Date.now() - lastUpdate < PLAIN_UPDATE_INTERVAL_MS) return;
        lastUpdate = Date.now();
        this.stream.write(`${indent}  ${this.colour.dim(detail)}\n`);
      },
      setTitle: (next) => {
        title = next;
      },
    };
    try {
      if (step.run) await step.run(context);
      if (step.children) {
        const children = step.children.map((child) => () => this.runStep(child, `${indent}  `));
        if (step.concurrent) await Promise.all(children.map((child) => child()));
        else for (const child of children) await child();
      }
    } catch (error) {
      this.stream.write(`${indent}${this.colour.red("✗")} ${title}\n`);
      throw error;
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    this.stream.write(
      `${indent}${this.colour.green("✓")} ${title} ${this.colour.dim(`(${seconds}s)`)}\n`,
    );
  }
}

// --json: progress is silent; warnings are kept for the JSON document.
export class SilentProgress implements Progress {
  readonly warnings: string[] = [];

  async run(steps: Step[]): Promise<void> {
    const noop: StepContext = { update: () => {}, setTitle: () => {} };
    const runStep = async (step: Step): Promise<void> => {
      if (step.run) await step.run(noop);
      if (step.children) {
        if (step.concurrent) await Promise.all(step.children.map(runStep));
        else for (const child of step.children) await runStep(child);
      }
    };
    for (const step of steps) await runStep(step);
  }

  info(): void {}

  warn(message: string): void {
    this.warnings.push(message);
  }
}
