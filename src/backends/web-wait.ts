import { redact } from "../ui/redact.js";
import type { Clock } from "../waits/clock.js";
import {
  DEFAULT_FAIL_AFTER_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  ErrorAnswers,
  forHttp,
} from "../waits/http-wait.js";
import { waitOrFail } from "./wait-failure.js";

// Every backend finishes `up` the way a user checks it: the web URL answers from the host,
// through the application (a page nginx serves from PHP), one request at a time. When it
// does not, the error names the cause: a PHP fatal error, a web server that cannot read
// the code, an error status, or silence.

export interface WebWaitOptions {
  timeoutMs: number;
  intervalMs: number;
  /** How long one request may take (prodlike.yaml health.requestTimeout). */
  requestTimeoutMs?: number | undefined;
  /** How long error answers may last before `up` gives up (health.failAfter). */
  failAfterMs?: number | undefined;
  onDetail: (detail: string) => void;
  /** What `prodlike logs` is given to show why the page does not answer: the
   *  environment's own services, after a flag such as `--backend kind`. */
  logsArgs: readonly string[];
  /** The last log lines of the services behind the page, read only on a failure. */
  recentLogs?: (() => Promise<string>) | undefined;
  secrets?: readonly string[] | undefined;
}

export async function waitForWebUrl(
  url: string,
  clock: Clock,
  options: WebWaitOptions,
): Promise<void> {
  const strategy = forHttp(url, {
    timeoutMs: options.timeoutMs,
    intervalMs: options.intervalMs,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    failAfterMs: options.failAfterMs ?? DEFAULT_FAIL_AFTER_MS,
  });
  await waitOrFail(strategy, clock, options.onDetail, async (failure) => {
    const logs = redact(
      ((await options.recentLogs?.().catch(() => "")) ?? "").trimEnd(),
      options.secrets ?? [],
    );
    const more = `More: prodlike logs ${options.logsArgs.join(" ")}`;
    const lastLines = logs ? `Last log lines:\n${lastLinesOf(logs, 20)}\n${more}` : more;
    if (!(failure instanceof ErrorAnswers)) {
      return {
        code: "HEALTH_TIMEOUT",
        message: `${failure.description} did not answer: ${failure.reason}`,
        hint: lastLines,
      };
    }
    return {
      code: "HEALTH_FAILED",
      message: `${failure.description} ${causeOf(failure, logs)}`,
      hint: lastLines,
      data: { status: failure.last.status },
    };
  });
}

// What the user can act on first: the web server refused to read the code, PHP died, or
// the application answers an error.
function causeOf(failure: ErrorAnswers, logs: string): string {
  const denied = logs
    .split("\n")
    .reverse()
    .find((line) => /permission denied/i.test(line));
  if (denied && (failure.last.status === 403 || failure.last.status === 404)) {
    return `answers ${failure.last.status}: the web server cannot read the code (permission denied): ${denied.trim().slice(0, 300)}`;
  }
  if (failure.last.fatal) return `answers with ${failure.last.fatal}`;
  return `answers with errors: ${failure.reason}`;
}

function lastLinesOf(text: string, count: number): string {
  return text.split("\n").slice(-count).join("\n");
}
