import { ProdlikeError } from "../errors/prodlike-error.js";
import type { Clock } from "../waits/clock.js";
import { forHttp, WaitFailed } from "../waits/wait.js";

// Every backend finishes `up` the way a user checks it: the web URL answers from the host.
export async function waitForWebUrl(
  url: string,
  clock: Clock,
  options: { timeoutMs: number; intervalMs: number; onDetail: (detail: string) => void },
): Promise<void> {
  try {
    await forHttp(url, options).wait(clock, options.onDetail);
  } catch (error) {
    if (!(error instanceof WaitFailed)) throw error;
    throw new ProdlikeError(
      "HEALTH_TIMEOUT",
      `${error.description} did not answer: ${error.reason}`,
      {
        hint: "Check the web server and php-fpm logs: prodlike logs web php-fpm",
      },
    );
  }
}
