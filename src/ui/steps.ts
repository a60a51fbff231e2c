// Long work is described as steps; the CLI shows them as a listr2 task list on a
// terminal, as plain lines otherwise, and not at all with --json. Core code only sees
// this interface, never a renderer.

export interface StepContext {
  /** A one-line progress detail shown under the step. */
  update(detail: string): void;
  /** Change the step's title (e.g. "Building images" -> "Images up to date"). */
  setTitle(title: string): void;
}

export interface Step {
  title: string;
  run?: (context: StepContext) => Promise<void>;
  /** Sub-steps, run side by side when `concurrent`. */
  children?: Step[];
  concurrent?: boolean;
}

export interface Progress {
  run(steps: Step[]): Promise<void>;
  info(message: string): void;
  warn(message: string): void;
}
