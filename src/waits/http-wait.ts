import type { Clock } from "./clock.js";
import { WaitFailed, type WaitStrategy } from "./wait.js";

// A page that must answer the way a user's browser needs it: the web URL `up` checks.
//
// Real framework pages are slow the first time (cold caches, setup scripts, templates
// compiled): one request is given as long as such a page takes, and the next is sent only
// once it has ended, because php-fpm keeps working on a request its client gave up on
// and a second, third… copy of a first request (a setup script) collides with the first.
// An answer that is an error (5xx, a PHP fatal error in the page, 403/404 where the page
// should be) fails the wait once it has been the only answer for `failAfterMs`: a broken
// release is rolled back within seconds instead of after the whole time-out.

export interface HttpWaitOptions {
  /** How long to wait in all. */
  timeoutMs: number;
  /** Pause before the next request while nothing answers (connection refused, reset). */
  intervalMs: number;
  /** How long one request may take before it counts as "no reply". */
  requestTimeoutMs: number;
  /** How long error answers may last before the wait fails. */
  failAfterMs: number;
}

/** Defaults for a framework's page (prodlike.yaml `health:` changes them). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_FAIL_AFTER_MS = 10_000;

/** Pause between two error answers: the app is up but failing; no need to hammer it. */
const ERROR_ANSWER_PAUSE_MS = 250;

/** One request's outcome. `error` answers are the app's (or the web server's) own. */
export type HttpVerdict =
  | { kind: "ok" }
  | { kind: "error"; status: number; detail: string; fatal?: string }
  | { kind: "silent"; detail: string };

/** What a status and body say: 2xx, 3xx and 401 (the app answered, behind a login) are a
 *  working page unless the body is PHP's fatal error output. */
export function judgeAnswer(status: number, body: string): HttpVerdict {
  // PHP answers 200 with the error in the page when display_errors is on (the presets'
  // development php.ini), 500 without it when it is off.
  const fatal = phpFatalIn(body);
  if (fatal) return { kind: "error", status, detail: `answered ${status} with ${fatal}`, fatal };
  if (status >= 500 || (status >= 400 && status !== 401)) {
    return { kind: "error", status, detail: `answered ${status}` };
  }
  return { kind: "ok" };
}

/** PHP's own error output in a page (display_errors on, as the presets' dev php.ini has
 *  it), its first line cut short; undefined for a page without one. */
export function phpFatalIn(body: string): string | undefined {
  const match =
    /(?:PHP )?(Fatal error|Parse error|Uncaught \w+)(?:<\/b>)?:?\s*([^\n<]{0,160})/.exec(
      body.slice(0, 65_536),
    );
  return match ? `a PHP ${match[1]}: ${match[2]?.trim() ?? ""}`.trim() : undefined;
}

/** The wait failed on error answers (not a time-out): what they were. */
export class ErrorAnswers extends WaitFailed {
  constructor(
    description: string,
    readonly last: Extract<HttpVerdict, { kind: "error" }>,
    forMs: number,
  ) {
    super(
      description,
      `${last.detail}, and nothing else for ${Math.round(forMs / 100) / 10} s`,
      false,
    );
  }
}

export function forHttp(url: string, options: HttpWaitOptions): WaitStrategy {
  const description = `HTTP ${url}`;
  return {
    description,
    async wait(clock: Clock, onDetail?: (detail: string) => void) {
      const deadline = clock.now() + options.timeoutMs;
      let lastDetail = "not checked yet";
      let failingSince: number | undefined;
      for (;;) {
        const verdict = await ask(url, options.requestTimeoutMs);
        if (verdict.kind === "ok") return;
        if (verdict.detail !== lastDetail) onDetail?.(verdict.detail);
        lastDetail = verdict.detail;
        if (verdict.kind === "error") {
          failingSince ??= clock.now();
          const failingFor = clock.now() - failingSince;
          if (failingFor >= options.failAfterMs) {
            throw new ErrorAnswers(description, verdict, failingFor);
          }
        } else {
          failingSince = undefined;
        }
        if (clock.now() >= deadline) {
          throw new WaitFailed(
            description,
            `timed out after ${options.timeoutMs} ms (${lastDetail})`,
            true,
          );
        }
        await clock.sleep(
          verdict.kind === "error"
            ? Math.max(options.intervalMs, ERROR_ANSWER_PAUSE_MS)
            : options.intervalMs,
        );
      }
    },
  };
}

async function ask(url: string, requestTimeoutMs: number): Promise<HttpVerdict> {
  try {
    const response = await fetch(url, {
      redirect: "manual",
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
    return judgeAnswer(response.status, await response.text());
  } catch (error) {
    return { kind: "silent", detail: notAnswering(error, requestTimeoutMs) };
  }
}

// fetch() says only "fetch failed"; what the user can act on is in its cause (the
// connection refused or reset while the server starts).
function notAnswering(error: unknown, requestTimeoutMs: number): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (error instanceof Error && error.name === "TimeoutError")
    return `not answering yet (no reply within ${Math.round(requestTimeoutMs / 1000)} s)`;
  const reason = cause?.code ?? cause?.message;
  return reason ? `not answering yet (${reason})` : "not answering yet";
}
