import type { Clock } from "../waits/clock.js";
import { forHttp } from "../waits/wait.js";
import { waitOrFail } from "./wait-failure.js";

// Every backend finishes `up` the way a user checks it: the web URL answers from the host.
export async function waitForWebUrl(
  url: string,
  clock: Clock,
  options: {
    timeoutMs: number;
    intervalMs: number;
    onDetail: (detail: string) => void;
    /** What `prodlike logs` is given to show why the page does not answer: the
     *  environment's own services, after a flag such as `--backend kind`. */
    logsArgs: readonly string[];
  },
): Promise<void> {
  await waitOrFail(forHttp(url, options), clock, options.onDetail, (failure) => ({
    code: "HEALTH_TIMEOUT",
    message: `${failure.description} did not answer: ${failure.reason}`,
    hint: `Check the logs: prodlike logs ${options.logsArgs.join(" ")}`,
  }));
}
