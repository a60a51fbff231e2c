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
    /** The services whose logs explain a page that does not answer (the environment's own). */
    logServices: readonly string[];
  },
): Promise<void> {
  await waitOrFail(forHttp(url, options), clock, options.onDetail, (failure) => ({
    code: "HEALTH_TIMEOUT",
    message: `${failure.description} did not answer: ${failure.reason}`,
    hint: `Check the logs: prodlike logs ${options.logServices.join(" ")}`,
  }));
}
