import type { ErrorCode } from "../errors/catalog.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { Clock } from "../waits/clock.js";
import { WaitFailed, type WaitStrategy } from "../waits/wait.js";

// Every wait a backend does ends the same way when it fails: a typed error that says
// what did not become ready and why, with a hint worked out only then (last log lines,
// the pods' states). Anything else the wait threw passes through unchanged.

export interface WaitFailureReport {
  code: ErrorCode;
  message: string;
  hint?: string;
  data?: Record<string, unknown>;
}

export async function waitOrFail(
  strategy: WaitStrategy,
  clock: Clock,
  onDetail: ((detail: string) => void) | undefined,
  report: (failure: WaitFailed) => WaitFailureReport | Promise<WaitFailureReport>,
): Promise<void> {
  try {
    await strategy.wait(clock, onDetail);
  } catch (error) {
    if (!(error instanceof WaitFailed)) throw error;
    const { code, message, hint, data } = await report(error);
    throw new ProdlikeError(code, message, {
      cause: error,
      ...(hint === undefined ? {} : { hint }),
      data: { timedOut: error.timedOut, ...data },
    });
  }
}
