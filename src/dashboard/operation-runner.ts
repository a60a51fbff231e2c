import { fromSystemError, isProdlikeError } from "../errors/prodlike-error.js";
import type { Progress } from "../ui/steps.js";
import { RecordedProgress } from "./recorded-progress.js";
import type { ErrorView, OperationView } from "./wire.js";

// The operations the page started, each a core operation run with a RecordedProgress:
// every change of its steps goes to whoever follows it (any tab: the page that clicked
// and every other one open on /api/events). Finished ones are kept a while, so a tab
// opened later still sees how they ended.

const KEPT_OPERATIONS = 50;
const UPDATE_EVERY_MS = 100;

export class OperationRunner {
  private readonly operations = new Map<string, OperationView>();
  private sequence = 0;

  constructor(
    private readonly publish: (operation: OperationView) => void,
    private readonly onFinished: (operation: OperationView) => void = () => undefined,
  ) {}

  /** Starts `work` now; resolves at once with the operation the page can follow. */
  start(
    envId: string,
    action: string,
    work: (progress: Progress) => Promise<unknown>,
  ): OperationView {
    this.sequence += 1;
    const operation: OperationView = {
      id: `${Date.now().toString(36)}-${this.sequence}`,
      envId,
      action,
      state: "running",
      startedAt: new Date().toISOString(),
      steps: [],
      messages: [],
    };
    let timer: NodeJS.Timeout | undefined;
    // Step updates come in bursts (a build's output): sent at most every 100 ms.
    const changed = () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        this.publish(operation);
      }, UPDATE_EVERY_MS);
    };
    const progress = new RecordedProgress(changed);
    operation.steps = progress.steps;
    operation.messages = progress.messages;
    this.remember(operation);
    this.publish(operation);
    void work(progress).then(
      () => this.finish(operation, timer, undefined),
      (error: unknown) => this.finish(operation, timer, errorView(error)),
    );
    return operation;
  }

  get(id: string): OperationView | undefined {
    return this.operations.get(id);
  }

  all(): OperationView[] {
    return [...this.operations.values()];
  }

  /** Resolves once no operation runs (the dashboard's shutdown waits for them). */
  running(): OperationView[] {
    return this.all().filter((operation) => operation.state === "running");
  }

  private finish(
    operation: OperationView,
    timer: NodeJS.Timeout | undefined,
    error: ErrorView | undefined,
  ) {
    if (timer) clearTimeout(timer);
    operation.state = error ? "failed" : "done";
    operation.endedAt = new Date().toISOString();
    if (error) operation.error = error;
    this.publish(operation);
    this.onFinished(operation);
  }

  private remember(operation: OperationView): void {
    this.operations.set(operation.id, operation);
    for (const [id, kept] of this.operations) {
      if (this.operations.size <= KEPT_OPERATIONS) break;
      if (kept.state !== "running") this.operations.delete(id);
    }
  }
}

/** What the page shows of a failure: the catalog's code, the message and the hint. */
export function errorView(error: unknown): ErrorView {
  const known = isProdlikeError(error) ? error : fromSystemError(error);
  if (known) {
    return {
      code: known.code,
      message: known.message,
      ...(known.hint ? { hint: known.hint } : {}),
    };
  }
  return {
    code: "INTERNAL",
    message: error instanceof Error ? error.message : String(error),
    hint: "A bug in prodlike: run the same command in a terminal with --debug and report it.",
  };
}
