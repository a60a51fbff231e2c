import type { Clock } from "./clock.js";

// Composable waits: each polls one condition until it holds, fails for good, or times
// out. `forAll` runs several side by side and fails as soon as one fails.

export type Probe =
  | { done: true }
  | { done: false; detail: string }
  | { failed: true; reason: string };

export interface WaitStrategy {
  readonly description: string;
  /** Resolves when ready; rejects with WaitFailed on failure or time-out. */
  wait(clock: Clock, onDetail?: (detail: string) => void): Promise<void>;
}

export class WaitFailed extends Error {
  constructor(
    readonly description: string,
    readonly reason: string,
    readonly timedOut: boolean,
  ) {
    super(`${description}: ${reason}`);
    this.name = "WaitFailed";
  }
}

export interface PollOptions {
  timeoutMs: number;
  intervalMs: number;
}

export function poll(
  description: string,
  probe: () => Promise<Probe>,
  options: PollOptions,
): WaitStrategy {
  return {
    description,
    async wait(clock, onDetail) {
      const deadline = clock.now() + options.timeoutMs;
      let lastDetail = "not checked yet";
      for (;;) {
        const result = await probe();
        if ("failed" in result) throw new WaitFailed(description, result.reason, false);
        if (result.done) return;
        if (result.detail !== lastDetail) onDetail?.(result.detail);
        lastDetail = result.detail;
        if (clock.now() >= deadline) {
          throw new WaitFailed(
            description,
            `timed out after ${options.timeoutMs} ms (${lastDetail})`,
            true,
          );
        }
        await clock.sleep(options.intervalMs);
      }
    },
  };
}

export function forAll(strategies: readonly WaitStrategy[]): WaitStrategy {
  return {
    description: strategies.map((strategy) => strategy.description).join(", "),
    async wait(clock, onDetail) {
      await Promise.all(strategies.map((strategy) => strategy.wait(clock, onDetail)));
    },
  };
}

// An HTTP endpoint answering below 500: nginx is up and php-fpm behind it answers (a
// fresh Drupal answers 302 to the installer, which counts as up; 502/504 do not).
/** PHP's own error output in a page (display_errors on, as the presets' dev php.ini has
 *  it), its first line cut short; undefined for a page without one. */
export function phpFatalIn(body: string): string | undefined {
  const match =
    /(?:PHP )?(Fatal error|Parse error|Uncaught \w+)(?:<\/b>)?:?\s*([^\n<]{0,160})/.exec(
      body.slice(0, 65_536),
    );
  return match ? `a PHP ${match[1]}: ${match[2]?.trim() ?? ""}`.trim() : undefined;
}

export function forHttp(url: string, options: PollOptions): WaitStrategy {
  return poll(
    `HTTP ${url}`,
    async () => {
      try {
        const response = await fetch(url, {
          redirect: "manual",
          signal: AbortSignal.timeout(Math.max(1000, options.intervalMs * 4)),
        });
        if (response.status >= 500) {
          await response.body?.cancel();
          return { done: false, detail: `answered ${response.status}` };
        }
        // A 200 that is PHP's fatal error page is no working page.
        const fatal = phpFatalIn(await response.text());
        return fatal
          ? { done: false, detail: `answered ${response.status} with ${fatal}` }
          : { done: true };
      } catch (error) {
        return { done: false, detail: notAnswering(error) };
      }
    },
    options,
  );
}

// fetch() says only "fetch failed"; what the user can act on is in its cause (the
// connection refused or reset while the server starts).
function notAnswering(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (error instanceof Error && error.name === "TimeoutError")
    return "not answering yet (no reply in time)";
  const reason = cause?.code ?? cause?.message;
  return reason ? `not answering yet (${reason})` : "not answering yet";
}
