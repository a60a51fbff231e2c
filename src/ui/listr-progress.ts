import type { ChalkInstance } from "chalk";
import { Listr, ListrLogger, type ListrTask, PRESET_TIMER, ProcessOutput } from "listr2";
import type { Progress, Step } from "./steps.js";

// A listr2 task list on a terminal, drawn on stderr so stdout stays for data.
export class ListrProgress implements Progress {
  private readonly logger: ListrLogger;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly colour: ChalkInstance,
  ) {
    this.logger = new ListrLogger({ processOutput: new ProcessOutput(stream, stream) });
  }

  async run(steps: Step[]): Promise<void> {
    const list = new Listr(steps.map(toTask), {
      concurrent: false,
      exitOnError: true,
      registerSignalListeners: false,
      renderer: "default",
      rendererOptions: {
        logger: this.logger,
        collapseSubtasks: false,
        showErrorMessage: false,
        timer: PRESET_TIMER,
      },
    });
    await list.run();
  }

  info(message: string): void {
    this.stream.write(`${message}\n`);
  }

  warn(message: string): void {
    this.stream.write(`${this.colour.yellow("warning:")} ${message}\n`);
  }
}

function toTask(step: Step): ListrTask {
  return {
    title: step.title,
    task: async (_context, task) => {
      if (step.run) {
        await step.run({
          update: (detail) => {
            task.output = detail;
          },
          setTitle: (title) => {
            task.title = title;
          },
        });
      }
      if (step.children) {
        return task.newListr(step.children.map(toTask), {
          concurrent: step.concurrent ?? false,
          exitOnError: true,
        });
      }
      return undefined;
    },
  };
}
