import type { Progress, Step } from "../ui/steps.js";
import type { OperationView, StepView } from "./wire.js";

// A Progress that keeps the steps of a core operation as a tree the page draws, the same
// steps a terminal shows as a listr2 task list. Every change calls `onChange`; the
// operation's page (and any other tab following it) receives the whole tree again.

export class RecordedProgress implements Progress {
  readonly steps: StepView[] = [];
  readonly messages: OperationView["messages"] = [];

  constructor(private readonly onChange: () => void) {}

  async run(steps: Step[]): Promise<void> {
    await this.runAll(steps, this.steps, false);
  }

  info(message: string): void {
    this.messages.push({ level: "info", text: message });
    this.onChange();
  }

  warn(message: string): void {
    this.messages.push({ level: "warn", text: message });
    this.onChange();
  }

  private async runAll(steps: Step[], into: StepView[], concurrent: boolean): Promise<void> {
    const views = steps.map((step) => {
      const view: StepView = { title: step.title, state: "pending", children: [] };
      into.push(view);
      return { step, view };
    });
    this.onChange();
    if (concurrent) {
      await Promise.all(views.map(({ step, view }) => this.runOne(step, view)));
      return;
    }
    for (const { step, view } of views) await this.runOne(step, view);
  }

  private async runOne(step: Step, view: StepView): Promise<void> {
    view.state = "running";
    this.onChange();
    try {
      await step.run?.({
        update: (detail) => {
          view.detail = detail;
          this.onChange();
        },
        setTitle: (title) => {
          view.title = title;
          this.onChange();
        },
      });
      if (step.children) await this.runAll(step.children, view.children, step.concurrent === true);
      view.state = "done";
    } catch (error) {
      view.state = "failed";
      throw error;
    } finally {
      this.onChange();
    }
  }
}
